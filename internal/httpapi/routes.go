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
		{"PUT " + v1 + "/me/availability", agents, s.setAvailability},

		// Agents.
		{"GET " + v1 + "/agents", agents, s.listAgents},
		{"POST " + v1 + "/agents", admins, s.createAgent},
		{"GET " + v1 + "/agents/{id}", agents, s.getAgent},
		{"PATCH " + v1 + "/agents/{id}", admins, s.updateAgent},

		// Invitations (invitation.go): admins invite, the invitee accepts.
		{"GET " + v1 + "/invitations", admins, s.listInvitations},
		{"POST " + v1 + "/invitations", admins, s.createInvitation},
		{"DELETE " + v1 + "/invitations/{id}", admins, s.revokeInvitation},
		{"POST " + v1 + "/invitations/lookup", public, s.lookupInvitation},
		{"POST " + v1 + "/invitations/accept", public, s.acceptInvitation},

		// Routing: teams, agents' routing state, rules, the queue.
		{"GET " + v1 + "/teams", agents, s.listTeams},
		{"POST " + v1 + "/teams", admins, s.createTeam},
		{"GET " + v1 + "/teams/{id}", agents, s.getTeam},
		{"PATCH " + v1 + "/teams/{id}", admins, s.updateTeam},
		{"DELETE " + v1 + "/teams/{id}", admins, s.deleteTeam},
		{"GET " + v1 + "/routing/agents", agents, s.listAgentStates},
		{"GET " + v1 + "/routing/rules", agents, s.listRules},
		{"POST " + v1 + "/routing/rules", admins, s.createRule},
		{"PATCH " + v1 + "/routing/rules/{id}", admins, s.updateRule},
		{"DELETE " + v1 + "/routing/rules/{id}", admins, s.deleteRule},
		{"GET " + v1 + "/queue", agents, s.listQueue},

		// Inboxes.
		{"GET " + v1 + "/inboxes", agents, s.listInboxes},
		{"POST " + v1 + "/inboxes", admins, s.createInbox},
		{"GET " + v1 + "/inboxes/{id}", agents, s.getInbox},
		{"PATCH " + v1 + "/inboxes/{id}", admins, s.updateInbox},
		{"GET " + v1 + "/inboxes/{id}/secret", admins, s.getInboxSecret},
		{"POST " + v1 + "/inboxes/{id}/rotate_secret", admins, s.rotateInboxSecret},
		{"GET " + v1 + "/inboxes/{id}/routing", agents, s.getRoutingSettings},
		{"PUT " + v1 + "/inboxes/{id}/routing", admins, s.putRoutingSettings},

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
		{"POST " + v1 + "/conversations/{id}/transfer", agents, s.transfer},

		// Attachments.
		{"POST " + v1 + "/attachments", agents, s.uploadAttachment},
		{"GET " + v1 + "/attachments/{id}", agents, s.downloadAttachment},

		// The bot (issue 7): knowledge base, intents, plugins, settings, reports.
		{"GET " + v1 + "/bot/faqs", admins, s.listFAQs},
		{"POST " + v1 + "/bot/faqs", admins, s.putFAQ},
		{"GET " + v1 + "/bot/faqs/{id}", admins, s.getFAQ},
		{"PUT " + v1 + "/bot/faqs/{id}", admins, s.putFAQ},
		{"DELETE " + v1 + "/bot/faqs/{id}", admins, s.deleteFAQ},
		{"POST " + v1 + "/bot/faqs/import", admins, s.importFAQs},
		{"POST " + v1 + "/bot/faqs/import_sample", admins, s.importSampleFAQs},
		{"GET " + v1 + "/bot/faqs/export", admins, s.exportFAQs},
		{"GET " + v1 + "/bot/documents", admins, s.listDocuments},
		{"POST " + v1 + "/bot/documents", admins, s.createDocument},
		{"DELETE " + v1 + "/bot/documents/{id}", admins, s.deleteDocument},
		{"GET " + v1 + "/bot/synonyms", admins, s.getSynonyms},
		{"PUT " + v1 + "/bot/synonyms", admins, s.putSynonyms},
		{"GET " + v1 + "/bot/intents", admins, s.listIntents},
		{"POST " + v1 + "/bot/intents", admins, s.putIntent},
		{"PUT " + v1 + "/bot/intents/{id}", admins, s.putIntent},
		{"DELETE " + v1 + "/bot/intents/{id}", admins, s.deleteIntent},
		{"GET " + v1 + "/bot/plugins", admins, s.listPlugins},
		{"POST " + v1 + "/bot/plugins", admins, s.putPlugin},
		{"PUT " + v1 + "/bot/plugins/{id}", admins, s.putPlugin},
		{"DELETE " + v1 + "/bot/plugins/{id}", admins, s.deletePlugin},
		{"GET " + v1 + "/bot/unanswered", admins, s.listUnanswered},
		{"GET " + v1 + "/bot/feedback", admins, s.listBotFeedback},
		{"GET " + v1 + "/bot/llm", admins, s.getLLMSettings},
		{"PUT " + v1 + "/bot/llm", admins, s.putLLMSettings},
		{"GET " + v1 + "/bot/llm/usage", admins, s.getLLMUsage},
		{"GET " + v1 + "/inboxes/{id}/bot", admins, s.getBotSettings},
		{"PUT " + v1 + "/inboxes/{id}/bot", admins, s.putBotSettings},
		{"GET " + v1 + "/conversations/{id}/suggestions", agents, s.suggestions},
		{"GET " + v1 + "/conversations/{id}/bot_decisions", agents, s.listBotDecisions},
		{"POST " + v1 + "/widget/conversations/{id}/messages/{message_id}/feedback", visitor, s.widgetFeedback},

		// Widget (visitor) API: what a customer's web page calls.
		{"POST " + v1 + "/widget/sessions", public, s.widgetSession},
		{"GET " + v1 + "/widget/config", public, s.widgetConfigHandler},
		{"GET " + v1 + "/widget/me", visitor, s.widgetMe},
		{"GET " + v1 + "/widget/status", visitor, s.widgetStatus},
		{"GET " + v1 + "/widget/agents/{id}", visitor, s.widgetGetAgent},
		{"PATCH " + v1 + "/widget/me", visitor, s.widgetUpdateMe},
		{"GET " + v1 + "/widget/conversations", visitor, s.widgetListConversations},
		{"POST " + v1 + "/widget/conversations", visitor, s.widgetStartConversation},
		{"GET " + v1 + "/widget/conversations/{id}", visitor, s.getConversation},
		{"GET " + v1 + "/widget/conversations/{id}/messages", visitor, s.listMessages},
		{"POST " + v1 + "/widget/conversations/{id}/messages", visitor, s.sendMessage},
		{"POST " + v1 + "/widget/conversations/{id}/read", visitor, s.markRead},
		{"POST " + v1 + "/widget/conversations/{id}/typing", visitor, s.typing},
		{"POST " + v1 + "/widget/conversations/{id}/rating", visitor, s.rateConversation},
		{"POST " + v1 + "/widget/attachments", visitor, s.uploadAttachment},
		{"GET " + v1 + "/widget/attachments/{id}", visitor, s.downloadAttachment},

		// Workbench and admin console (console.go).
		{"PATCH " + v1 + "/me", agents, s.updateMe},
		{"GET " + v1 + "/workspace", agents, s.getWorkspace},
		{"PATCH " + v1 + "/workspace", admins, s.updateWorkspace},
		{"GET " + v1 + "/search", agents, s.search},
		{"GET " + v1 + "/canned_responses", agents, s.listCanned},
		{"POST " + v1 + "/canned_responses", admins, s.createCanned},
		{"PATCH " + v1 + "/canned_responses/{id}", admins, s.updateCanned},
		{"DELETE " + v1 + "/canned_responses/{id}", admins, s.deleteCanned},
		{"GET " + v1 + "/labels", agents, s.listLabels},
		{"POST " + v1 + "/labels", admins, s.createLabel},
		{"PATCH " + v1 + "/labels/{id}", admins, s.updateLabel},
		{"DELETE " + v1 + "/labels/{id}", admins, s.deleteLabel},
	}
}
