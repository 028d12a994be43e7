package browsertest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserRunsScript: the browser starts, loads a loopback page and runs
// its script; two tabs do not share storage.
func TestBrowserRunsScript(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>t</title><p id=out></p><script>
document.getElementById('out').textContent = 'seen:' + (localStorage.getItem('k') || 'none');
localStorage.setItem('k', 'set');</script>`)
	}))
	defer srv.Close()
	a, c := Tab(t), Tab(t)
	var first, second, other string
	Run(t, a, 20*time.Second, chromedp.Navigate(srv.URL), chromedp.Text("#out", &first, chromedp.ByQuery))
	Run(t, a, 20*time.Second, chromedp.Reload(), chromedp.Text("#out", &second, chromedp.ByQuery))
	Run(t, c, 20*time.Second, chromedp.Navigate(srv.URL), chromedp.Text("#out", &other, chromedp.ByQuery))
	if first != "seen:none" || second != "seen:set" || other != "seen:none" {
		t.Fatalf("got %q, %q, %q; want seen:none, seen:set, seen:none (tabs isolated)", first, second, other)
	}
}

// TestMustScreenshotSavesPNG: the saved file is a PNG (named .png), in
// the artifacts folder.
func TestMustScreenshotSavesPNG(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>t</title><p>hello</p>`)
	}))
	defer srv.Close()
	t.Setenv("KEFU_TEST_ARTIFACTS", t.TempDir())
	a := Tab(t)
	Run(t, a, 20*time.Second, chromedp.Navigate(srv.URL))
	path := MustScreenshot(t, a, "page")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("%s is not a PNG (starts %q)", path, b[:min(8, len(b))])
	}
}
