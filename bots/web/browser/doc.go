// Package browser holds the web page's end-to-end tests: the real page,
// served by bots/web over real storage, driven in headless Chromium
// (Debian's chromium) through chromedp. It has no code of its own; the
// tests live in their own package so their one browser start runs in
// parallel with the other packages' tests.
package browser
