package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kefu-chat/kefu/internal/browsertest"
)

// TestConsoleInvite: an admin invites an agent in the console and copies
// the link; the invitee, in a browser of their own, opens it, picks a name
// and a password and lands in the workbench logged in. The invitation is
// then gone from the admin's pending list, the new agent is in the
// agents table, and the password works for a normal login.
func TestConsoleInvite(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	const email = "newbie@example.com"

	admin := agentTab(t, s, adminEmail, adminPassword)
	browsertest.Run(t, admin, uiWait,
		chromedp.Navigate(s.URL+"/app/admin/agents"),
		chromedp.WaitVisible("#invite-form-email", chromedp.ByQuery),
		chromedp.WaitVisible("#invitations-empty", chromedp.ByQuery),
		chromedp.SendKeys("#invite-form-email", email, chromedp.ByQuery),
		setSelect("#invite-form-role", "agent"),
		chromedp.Click("#invite-form-submit", chromedp.ByQuery),
		chromedp.WaitVisible("#invite-link", chromedp.ByQuery),
		chromedp.Click("#copy-invite-link", chromedp.ByQuery),
	)
	waitJS(t, admin, "the copy button to copy or select the link", `!!document.querySelector('#copy-invite-link').dataset.copied`)
	waitJS(t, admin, "the invitation in the pending list", `!!document.querySelector('#invitations-table tr[data-email="`+email+`"]')`)
	browsertest.Screenshot(t, admin, "invite-link")
	link := evalString(t, admin, `document.querySelector('#invite-link').value`)
	if !strings.HasPrefix(link, s.URL+"/app/invite#token=kfi_") {
		t.Fatalf("invitation link %q", link)
	}

	// The invitee: another browser, nobody logged in.
	invitee := browsertest.Tab(t)
	browsertest.Run(t, invitee, uiWait,
		chromedp.Navigate(link),
		chromedp.WaitVisible("#invite-form", chromedp.ByQuery))
	waitJS(t, invitee, "the invitation's email on the page", `document.querySelector('#invite-intro').textContent.includes('`+email+`')`)
	browsertest.Screenshot(t, invitee, "invite-page")
	browsertest.Run(t, invitee, uiWait,
		chromedp.SendKeys("#invite-name", "Newbie Li", chromedp.ByQuery),
		chromedp.SendKeys("#invite-password", "newbie-password-1", chromedp.ByQuery),
		chromedp.SendKeys("#invite-password2", "newbie-password-1", chromedp.ByQuery),
		chromedp.Click("#invite-submit", chromedp.ByQuery),
		chromedp.WaitVisible(`.workbench[data-loaded="true"] #conv-list`, chromedp.ByQuery))
	waitJS(t, invitee, "the workbench as the new agent, the token gone from the address bar",
		`document.querySelector('#me-name').textContent === 'Newbie Li' && location.pathname === '/app/conversations' && location.hash === ''`)
	browsertest.Screenshot(t, invitee, "invitee-workbench")

	// The link is used up.
	if code, _ := call(t, "POST", s.URL+"/api/v1/invitations/lookup", "", map[string]any{"token": link[strings.Index(link, "kfi_"):]}); code != 410 {
		t.Errorf("lookup of a used link: %d, want 410", code)
	}
	// The admin's console: no longer pending, now an agent.
	browsertest.Run(t, admin, uiWait,
		chromedp.Navigate(s.URL+"/app/admin/agents"),
		chromedp.WaitVisible("#invitations-empty", chromedp.ByQuery))
	waitJS(t, admin, "the new agent in the agents table",
		`[...document.querySelectorAll('#agents-table tbody td')].some((td) => td.textContent === '`+email+`')`)
	if got := mustCall(t, 200, "GET", s.URL+"/api/v1/invitations", tok, nil)["data"].([]any); len(got) != 0 {
		t.Errorf("pending invitations after accepting: %v", got)
	}
	s.login(email, "newbie-password-1")
}
