package httpapi

// routeTable is every route the server answers, in one place. The OpenAPI
// document (openapi.json) describes exactly these; a test keeps the two in
// step in both directions.
func (s *Server) routeTable() []route {
	const v1 = "/api/v1"
	return []route{
		// Operations.
		{"GET /healthz", public, s.healthz},
		{"GET /readyz", public, s.readyz},
		{"GET /metrics", public, s.metricsHandler},
		{"GET /api/openapi.json", public, s.openapi},
		{"GET /ws/agent", public, s.socket(s.agentSocket)},
		{"GET /ws/visitor", public, s.socket(s.visitorSocket)},

		// Agent sessions and API tokens.
		{"POST " + v1 + "/auth/login", public, s.login},
		{"POST " + v1 + "/auth/logout", agents, s.logout},
		{"GET " + v1 + "/me", agents, s.me},
		{"POST " + v1 + "/me/tokens", agents, s.createToken},
		{"DELETE " + v1 + "/me/tokens/{id}", agents, s.revokeToken},

		// Agents.
		{"GET " + v1 + "/agents", agents, s.listAgents},
		{"POST " + v1 + "/agents", admins, s.createAgent},
		{"GET " + v1 + "/agents/{id}", agents, s.getAgent},
		{"PATCH " + v1 + "/agents/{id}", admins, s.updateAgent},

		// Inboxes.
		{"GET " + v1 + "/inboxes", agents, s.listInboxes},
		{"POST " + v1 + "/inboxes", admins, s.createInbox},
		{"GET " + v1 + "/inboxes/{id}", agents, s.getInbox},
		{"PATCH " + v1 + "/inboxes/{id}", admins, s.updateInbox},
		{"POST " + v1 + "/inboxes/{id}/rotate_secret", admins, s.rotateInboxSecret},

		// Contacts.
		{"GET " + v1 + "/contacts", agents, s.listContacts},
		{"GET " + v1 + "/contacts/{id}", agents, s.getContact},
		{"PATCH " + v1 + "/contacts/{id}", agents, s.updateContact},
		{"GET " + v1 + "/contacts/{id}/conversations", agents, s.listContactConversations},

		// Conversations and messages.
		{"GET " + v1 + "/conversations", agents, s.listConversations},
		{"GET " + v1 + "/conversations/{id}", agents, s.getConversation},
		{"PATCH " + v1 + "/conversations/{id}", agents, s.updateConversation},
		{"GET " + v1 + "/conversations/{id}/messages", agents, s.listMessages},
		{"POST " + v1 + "/conversations/{id}/messages", agents, s.sendMessage},
		{"POST " + v1 + "/conversations/{id}/read", agents, s.markRead},
		{"POST " + v1 + "/conversations/{id}/typing", agents, s.typing},

		// Attachments.
		{"POST " + v1 + "/attachments", agents, s.uploadAttachment},
		{"GET " + v1 + "/attachments/{id}", agents, s.downloadAttachment},

		// Widget (visitor) API: what a customer's web page calls.
		{"POST " + v1 + "/widget/sessions", public, s.widgetSession},
		{"GET " + v1 + "/widget/me", visitor, s.widgetMe},
		{"PATCH " + v1 + "/widget/me", visitor, s.widgetUpdateMe},
		{"GET " + v1 + "/widget/conversations", visitor, s.widgetListConversations},
		{"POST " + v1 + "/widget/conversations", visitor, s.widgetStartConversation},
		{"GET " + v1 + "/widget/conversations/{id}", visitor, s.getConversation},
		{"GET " + v1 + "/widget/conversations/{id}/messages", visitor, s.listMessages},
		{"POST " + v1 + "/widget/conversations/{id}/messages", visitor, s.sendMessage},
		{"POST " + v1 + "/widget/conversations/{id}/read", visitor, s.markRead},
		{"POST " + v1 + "/widget/conversations/{id}/typing", visitor, s.typing},
		{"POST " + v1 + "/widget/attachments", visitor, s.uploadAttachment},
		{"GET " + v1 + "/widget/attachments/{id}", visitor, s.downloadAttachment},
	}
}
