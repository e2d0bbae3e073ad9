// Package browsertest tests the goasync console (package console) in a real
// headless Chromium, driven with chromedp. It is a module of its own so that
// the library does not depend on chromedp. Its test needs /usr/bin/chromium
// (.ci/setup-chromium.sh installs it).
//
// To refresh the README's screenshots (each test on its own, so that the
// other's pools are not in the picture):
//
//	go test -run ConsoleInChromium -screenshot ../../docs/console.png
//	go test -run TimelineScreenshot -timeline-screenshot ../../docs/console-timeline.png -stats-screenshot ../../docs/console-stats.png
//
// TestScaleInChromium keeps 100,000 live tasks and reports the console's
// targets (update time, the tab's heap, the server's heap with twenty
// streams); run it with -v to read them. It is built without -race, whose
// limit is 8128 goroutines.
package browsertest
