// Package googlemigration holds the Go code generated from migration.proto:
// the protobuf message inside Google Authenticator's otpauth-migration://
// transfer links. It is generated and committed so that builds need no protoc.
package googlemigration
