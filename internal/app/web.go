package app

import (
	"net/http"

	"github.com/kefu-chat/kefu/internal/web/workbench"
)

// webUI serves the browser-facing pages: the agents' workbench and admin
// console (internal/web/workbench). The API claims its own paths first;
// this handler gets whatever is left.
func webUI() http.Handler {
	mux := http.NewServeMux()
	workbench.New().Mount(mux)
	return mux
}
