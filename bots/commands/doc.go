// Package commands is authbot's one chat command language. It parses what a
// person typed (or the button they pressed, or the file they sent), calls
// core, and returns platform-neutral replies that every adapter (Telegram,
// Matrix, console) renders its own way. No adapter parses commands itself.
package commands
