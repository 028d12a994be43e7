// Package browsertest starts a real headless Chromium for the UI tests and
// hands out isolated browser contexts (one per simulated person: a visitor,
// an agent), so a test can drive the widget and the workbench side by side.
//
// Chromium is required: a missing browser fails the test, it does not skip,
// unless KEFU_TEST_SKIP_BROWSER is set for a local run (CI refuses it).
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ExecPath finds the Chromium binary: $KEFU_CHROMIUM, then the usual names.
func ExecPath() string {
	if p := os.Getenv("KEFU_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Tab starts a headless Chromium of its own (its own process and profile,
// so cookies and storage are as separate as two people's browsers) and
// returns its context; the browser is closed when the test ends.
func Tab(t testing.TB) context.Context {
	t.Helper()
	path := ExecPath()
	if path == "" {
		if os.Getenv("KEFU_TEST_SKIP_BROWSER") != "" {
			t.Skip("Chromium not found and KEFU_TEST_SKIP_BROWSER is set")
		}
		t.Fatal("Chromium is required for the browser tests: apt-get install -y chromium (or set KEFU_CHROMIUM)")
	}
	profile := profileDir(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Timers in background tabs must keep running: the visitor and the
		// agent are both "on screen" in these tests.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	return ctx
}

// profileDir is a fresh browser profile folder. It is removed after the
// browser is gone, retrying for a moment: Chromium may still be flushing
// files into it as it exits, which makes t.TempDir's cleanup fail the test.
func profileDir(t testing.TB) string {
	dir, err := os.MkdirTemp("", "kefu-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 50; i++ {
			if err = os.RemoveAll(dir); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("remove browser profile %s: %v", dir, err)
	})
	return dir
}

// Run runs actions with a deadline and fails the test on error, saving a
// screenshot of the page to the artifacts folder first.
func Run(t testing.TB, ctx context.Context, timeout time.Duration, actions ...chromedp.Action) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := chromedp.Run(tctx, actions...); err != nil {
		Screenshot(t, ctx, "failure")
		t.Fatalf("browser: %v", err)
	}
}

// ArtifactsDir is where screenshots go: $KEFU_TEST_ARTIFACTS, else
// testdata/artifacts-out under the test's package (git-ignored).
func ArtifactsDir(t testing.TB) string {
	dir := os.Getenv("KEFU_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts-out")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts dir: %v", err)
	}
	return dir
}

// Screenshot saves a full-page PNG named after the test and label, and
// returns its path. Failures to capture are logged, not fatal: a
// screenshot taken on the way to a failure is evidence, not the test.
func Screenshot(t testing.TB, ctx context.Context, label string) string {
	t.Helper()
	path, err := screenshot(t, ctx, label)
	if err != nil {
		t.Logf("screenshot %s: %v", label, err)
		return ""
	}
	t.Logf("screenshot: %s", path)
	return path
}

// MustScreenshot is Screenshot for a test whose artifacts are part of
// what it must deliver: it fails the test when no image was saved.
func MustScreenshot(t testing.TB, ctx context.Context, label string) string {
	t.Helper()
	path, err := screenshot(t, ctx, label)
	if err != nil {
		t.Fatalf("screenshot %s: %v", label, err)
	}
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		t.Fatalf("screenshot %s: nothing saved at %s (%v)", label, path, err)
	}
	t.Logf("screenshot: %s", path)
	return path
}

func screenshot(t testing.TB, ctx context.Context, label string) (string, error) {
	var buf []byte
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// Quality 100 is what makes chromedp ask for PNG; anything lower is JPEG.
	if err := chromedp.Run(sctx, chromedp.FullScreenshot(&buf, 100)); err != nil {
		return "", err
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + "-" + label + ".png"
	path := filepath.Join(ArtifactsDir(t), name)
	return path, os.WriteFile(path, buf, 0o644)
}
