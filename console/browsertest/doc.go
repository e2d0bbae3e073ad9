// Package browsertest tests the goasync console (package console) in a real
// headless Chromium, driven with chromedp. It is a module of its own so that
// the library does not depend on chromedp. Its test needs /usr/bin/chromium
// (.ci/setup-chromium.sh installs it).
//
// To refresh the README's screenshots, docs/console.png and
// docs/console-timeline.png:
//
//	go test -run 'ConsoleInChromium|TimelineScreenshot' -screenshot ../../docs/console.png -timeline-screenshot ../../docs/console-timeline.png
//
// TestScaleInChromium keeps 100,000 live tasks and reports the console's
// targets (update time, the tab's heap, the server's heap with twenty
// streams); run it with -v to read them. It is built without -race, whose
// limit is 8128 goroutines.
package browsertest
