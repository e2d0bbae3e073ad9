package console

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHostCheck(t *testing.T) {
	for _, tc := range []struct {
		host string
		opts []Option
		want int
	}{
		{"localhost", nil, 200},
		{"localhost:6060", nil, 200},
		{"LOCALHOST:6060", nil, 200},
		{"127.0.0.1:6060", nil, 200},
		{"127.0.0.1", nil, 200},
		{"[::1]:6060", nil, 200},
		{"[::1]", nil, 200},
		{"attacker.example", nil, 403},
		{"attacker.example:6060", nil, 403},
		{"localhost.attacker.example", nil, 403},
		{"127.0.0.1.nip.io:6060", nil, 403},
		{"127.0.0.2:6060", nil, 403},
		{"::1", nil, 403}, // an IPv6 address without brackets is not a Host
		{"", nil, 403},
		{"10.0.0.7:6060", nil, 403},
		{"10.0.0.7:6060", []Option{AllowHosts("10.0.0.7")}, 200},
		{"Build-Box:6060", []Option{AllowHosts("build-box")}, 200},
		{"[fd00::1]:6060", []Option{AllowHosts("[fd00::1]")}, 200},
		{"[fd00::1]:6060", []Option{AllowHosts("fd00::1")}, 200},
		{"other-box:6060", []Option{AllowHosts("build-box")}, 403},
		{"anything.example", []Option{AllowHosts("*")}, 200},
	} {
		h := Handler(tc.opts...)
		for _, path := range []string{"/", "/api/tasks", "/console.js"} {
			req := httptest.NewRequest("GET", path, nil)
			req.Host = tc.host
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tc.want {
				t.Errorf("Host %q%s, %s: %d; want %d", tc.host, optsText(tc.opts), path, w.Code, tc.want)
			}
			if w.Code == 403 && strings.Contains(w.Body.String(), tc.host) && tc.host != "" {
				t.Errorf("the 403 body echoes the Host %q", tc.host)
			}
		}
	}
}

func optsText(opts []Option) string {
	if len(opts) == 0 {
		return ""
	}
	return " (with AllowHosts)"
}

func TestSecurityHeaders(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	for _, path := range []string{"/", "/console.js", "/console.css", "/api/tasks", "/nope"} {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Host = "attacker.example" // refusals carry them too
		for _, host := range []string{"", "attacker.example"} {
			req.Host = host
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			h := res.Header
			if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
				t.Errorf("%s (Host %q): X-Content-Type-Options %q, X-Frame-Options %q", path, host, h.Get("X-Content-Type-Options"), h.Get("X-Frame-Options"))
			}
			policy := h.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(policy, want) {
					t.Errorf("%s: Content-Security-Policy %q lacks %q", path, policy, want)
				}
			}
			if strings.Contains(policy, "unsafe") {
				t.Errorf("%s: Content-Security-Policy %q allows something unsafe", path, policy)
			}
		}
	}
}

// The page has no inline script or style: the policy would block them.
func TestPageHasNothingInline(t *testing.T) {
	p := string(page)
	for _, bad := range []string{"<script>", "<style", " style=", " onload=", " onclick=", "javascript:"} {
		if strings.Contains(p, bad) {
			t.Errorf("index.html contains %q, which the Content-Security-Policy blocks", bad)
		}
	}
	if strings.Contains(string(script), "innerHTML") || strings.Contains(string(script), "eval(") {
		t.Error("console.js uses innerHTML or eval: task names and errors must be set as text")
	}
}

func TestOptionsPanicOnMistakes(t *testing.T) {
	for name, f := range map[string]func(){
		"MaxStreams(0)":         func() { MaxStreams(0) },
		"AllowHosts(\"\")":      func() { AllowHosts("") },
		"AllowHosts(host:port)": func() { AllowHosts("box:6060") },
		"AllowHosts(URL)":       func() { AllowHosts("http://box") },
	} {
		func() {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.HasPrefix(s, "async: console.") {
					t.Errorf("%s: recovered %v; want a panic starting async: console.", name, r)
				}
			}()
			f()
		}()
	}
}

// A browser's request for a page of another origin is refused, even to a
// loopback Host; the page's own requests are served.
func TestCrossOriginRefused(t *testing.T) {
	h := Handler()
	for _, tc := range []struct {
		origin, site string
		want         int
	}{
		{"", "", 200},
		{"http://127.0.0.1:6060", "same-origin", 200},
		{"", "none", 200}, // typed in the address bar
		{"http://evil.example", "", 403},
		{"http://evil.example", "cross-site", 403},
		{"", "cross-site", 403},
		{"http://localhost:6060", "same-site", 403}, // another port of the same site
		{"null", "", 403},
		{"http://127.0.0.1:6061", "", 403},
	} {
		req := httptest.NewRequest("GET", "/api/tasks", nil)
		req.Host = "127.0.0.1:6060"
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		if tc.site != "" {
			req.Header.Set("Sec-Fetch-Site", tc.site)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != tc.want {
			t.Errorf("Origin %q, Sec-Fetch-Site %q: %d; want %d", tc.origin, tc.site, w.Code, tc.want)
		}
	}
}
