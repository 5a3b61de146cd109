//go:build goolm

package main

func init() { testTags = "goolm" }
