// Package browsertest tests the goasync console (package console) in a real
// headless Chromium, driven with chromedp. It is a module of its own so that
// the library does not depend on chromedp. Its test needs /usr/bin/chromium
// (.ci/setup-chromium.sh installs it).
//
// To refresh the README's screenshot, docs/console.png:
//
//	go test -run Chromium -screenshot ../../docs/console.png
package browsertest
