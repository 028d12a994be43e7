package e2e

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/kefu-chat/kefu/internal/browsertest"
)

// hostPage is a customer's website on its own origin (another port than
// Kefu) with the widget snippet pasted in. extraHead goes before the
// snippet. The page counts its own clicks and records every uncaught
// error, so a test can show the widget broke nothing.
func hostPage(t *testing.T, scriptURL, inbox, extraHead string) string {
	t.Helper()
	page := `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>
<script>window.hostErrors=[];addEventListener('error',function(e){hostErrors.push(String(e.message))});
addEventListener('unhandledrejection',function(e){hostErrors.push('unhandled: '+e.reason)});</script>
<style>button{all:unset} div{color:red !important}</style>
` + extraHead + `
</head><body><h1>My shop</h1>
<button id="hostbtn" onclick="var c=document.getElementById('count');c.textContent=String(+c.textContent+1)">Buy</button>
<span id="count">0</span>
<script src="` + html.EscapeString(scriptURL) + `" data-inbox="` + html.EscapeString(inbox) + `" async></script>
</body></html>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" && r.URL.Path != "/other" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

const (
	shadow   = `document.querySelector('[data-kefu]')?.shadowRoot`
	launcher = shadow + `?.querySelector('.launcher')`
)

// widgetFrame waits for the launcher and returns the panel's iframe node,
// for queries inside it.
func widgetFrame(t *testing.T, ctx context.Context) *cdp.Node {
	t.Helper()
	browsertest.Run(t, ctx, wait, chromedp.Poll(launcher, nil, chromedp.WithPollingTimeout(wait)))
	var nodes []*cdp.Node
	browsertest.Run(t, ctx, wait, chromedp.Nodes(shadow+`.querySelector('iframe')`, &nodes, chromedp.ByJSPath))
	return nodes[0]
}

// inFrame polls a JavaScript expression in the frame until it is truthy
// and stores its value in res (may be nil).
func inFrame(t *testing.T, ctx context.Context, frame *cdp.Node, expr string, res any) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, wait+5*time.Second)
	defer cancel()
	if err := chromedp.Run(tctx, chromedp.Poll(expr, res, chromedp.WithPollingInFrame(frame), chromedp.WithPollingTimeout(wait))); err != nil {
		var dump string
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		chromedp.Run(dctx, chromedp.Poll(dumpJS, &dump, chromedp.WithPollingInFrame(frame)))
		browsertest.Screenshot(t, ctx, "failure")
		t.Fatalf("waiting in the widget frame for %s: %v\nframe: %s", expr, err, dump)
	}
}

// dumpJS is what a failed wait prints: the markup, plus the values typed
// into inputs and which element has focus, since markup does not show them.
const dumpJS = `document.body.outerHTML + '\nvalues: ' + JSON.stringify([...document.querySelectorAll('input, textarea, select')].map((e) => [e.id || e.name, e.value])) + '\nfocus: ' + (document.activeElement && (document.activeElement.id || document.activeElement.tagName))`

// onPage polls an expression on the host page.
func onPage(t *testing.T, ctx context.Context, expr string, res any) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, wait+5*time.Second)
	defer cancel()
	if err := chromedp.Run(tctx, chromedp.Poll(expr, res, chromedp.WithPollingTimeout(wait))); err != nil {
		var dump string
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		chromedp.Run(dctx, chromedp.Evaluate(dumpJS, &dump))
		browsertest.Screenshot(t, ctx, "failure")
		t.Fatalf("waiting on the page for %s: %v\npage: %s", expr, err, dump)
	}
}
