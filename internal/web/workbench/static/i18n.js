// Every string the workbench shows, in English and Simplified Chinese, in
// this one table. The language follows the browser unless the agent picks
// one (kept in localStorage). A Go test checks that every key the modules
// use exists in both languages.

export const LOCALES = [['en', 'English'], ['zh-CN', '简体中文']];
const KEY = 'kefu.locale';

const STRINGS = {
  en: {
    active: 'Active', add: 'Add', addLabel: 'Add label…', agent: 'Agent', allInboxes: 'All inboxes', allowedOrigins: 'Allowed origins (one per line; empty: any site)',
    anyStatus: 'Any status', assignMe: 'Assign to me', assignee: 'Assignee', attach: 'Attach file', attachment: '[attachment]',
    attrName: 'Attribute', attrValue: 'Value', attributes: 'Attributes', availability: 'Availability',
    availabilityFailed: 'Could not save your availability:', backToInbox: 'Back to conversations', badLogin: 'Wrong email or password.', bot: 'Bot',
    browser: 'Browser', cancel: 'Cancel', cannedResponses: 'Canned responses', changePassword: 'Change password', close: 'Close', color: 'Color',
    composer: 'Message', composerHint: 'Reply… (Enter sends, Shift+Enter for a new line, / for canned responses)', confirmDelete: 'Delete this entry?',
    connected: 'Live', connecting: 'Connecting…', contact: 'Contact', contacts: 'Contacts', content: 'Content', conversation: 'Conversation',
    conversations: 'Conversations', copied: 'Copied.', copy: 'Copy', copyManually: 'Selected: press Ctrl+C to copy.', create: 'Create',
    currentPage: 'Current page', currentPassword: 'Current password', deactivate: 'Deactivate', delete: 'Delete', description: 'Description',
    edit: 'Edit', email: 'Email', enableNotifications: 'Enable notifications and sound',
    forbiddenText: 'This page is for administrators. Ask an admin of your workspace if you need access.', forbiddenTitle: 'Admins only',
    greeting: 'Greeting', inOneHour: 'In 1 hour', inactive: 'Inactive', inboxFilter: 'Inbox', initialPassword: 'Initial password (8+ characters)',
    installHelp: 'Paste this before </body> on every page of your site.', installSnippet: 'Install the widget', inviteAgent: 'Add an agent',
    language: 'Language', lastSeen: 'Last seen', login: 'Log in',
    maxConcurrent: 'Chats at once (0: the inbox default)', maxConcurrentOf: 'Chats at once for {name} (0: the inbox default)', logout: 'Log out', mainNav: 'Main', messages: 'Messages',
    mode_note: 'Private note', mode_reply: 'Reply', name: 'Name', newConversation: 'New conversation', newInbox: 'New inbox',
    newMessageFrom: 'New message from {name}', newPassword: 'New password', noConversations: 'No conversations here.', noMessages: 'No messages yet',
    noResults: 'Nothing found.', notFound: 'Page not found', noteHint: 'Private note: only agents see it', notePrefix: 'Note: ',
    notifications: 'Notifications', notificationsBlocked: 'The browser blocks notifications for this site.',
    notificationsHelp: 'A chime plays for new conversations and messages; a notification appears when this tab is in the background.',
    notificationsOn: 'Notifications are on.', password: 'Password', passwordChanged: 'Password changed; your other sessions were signed out.', phone: 'Phone',
    pickConversation: 'Pick a conversation on the left.', pickTime: 'Or pick a time', presence_away: 'Away', presence_offline: 'Offline',
    presence_online: 'Online', previousConversations: 'Previous conversations', privateNote: 'Private note', profile: 'Profile', rating: 'Rating',
    reactivate: 'Reactivate', reconnecting: 'Reconnecting…', removeAttr: 'Remove attribute {name}', removeLabel: 'Remove label {name}', reopen: 'Reopen',
    resolve: 'Resolve', role: 'Role', roleOf: 'Role of {name}', role_admin: 'Admin', role_agent: 'Agent', save: 'Save', saved: 'Saved.',
    search: 'Search', searchPlaceholder: 'Search contacts and messages', seen: 'Seen', send: 'Send', sendFailed: 'Not sent:', settings: 'Settings',
    shortCode: 'Short code', shortcuts: 'Keyboard shortcuts', snooze: 'Snooze', snoozeUntil: 'Snooze until', snoozedUntil: 'until {time}', state: 'State',
    statusFilter: 'Status', status_open: 'Open', status_pending: 'Pending', status_resolved: 'Resolved', status_snoozed: 'Snoozed',
    tab_all: 'All', tab_mine: 'Mine', tab_unassigned: 'Unassigned', tomorrowMorning: 'Tomorrow 9:00', unassigned: 'Unassigned',
    unreadCount: '{n} unread', visit: 'Visit', visitorN: 'Visitor #{n}', visitorTyping: 'The visitor is typing…', workspaceName: 'Workspace name', youPrefix: 'You: ',
    admin_agents: 'Agents', admin_inboxes: 'Inboxes', admin_canned: 'Canned responses', admin_labels: 'Labels', admin_account: 'Account',
    keyNext: 'Next conversation', keyPrev: 'Previous conversation', keyResolve: 'Resolve or reopen', keyReply: 'Write a reply', keySearch: 'Search',
    keySend: 'Send', keyNewline: 'New line', keyCanned: 'Insert a canned response', keyHelp: 'This help', keyClose: 'Close a dialog; leave the composer',
    now: 'now', minutes: '{n}m', hours: '{n}h', days: '{n}d',
    admin_teams: 'Teams', admin_routing: 'Routing', admin_rules: 'Rules', admin_kb: 'Knowledge base', admin_bot: 'Bot', admin_botreports: 'Bot reports',
    members: 'Members', teamName: 'Team name', membersOf: 'Members of {name}', rename: 'Rename', saveMembers: 'Save members', newTeam: 'New team',
    noInboxes: 'No inboxes yet.', policy: 'Assignment', policy_least_loaded: 'Least loaded online agent', policy_round_robin: 'Round robin', policy_manual: 'Manual (queue only)',
    routingTeams: 'Teams that answer this inbox (none: every agent)', noTeams: 'No teams yet.', defaultCapacity: 'Chats per agent at once (when the agent has no own limit)',
    sticky: 'Returning visitors go back to their last agent', businessHours: 'Business hours', autoResolveAfter: 'Resolve after the visitor is silent for (minutes, 0: never)',
    remindAfter: 'Remind the agent when a visitor waits for an answer (minutes, 0: never)', intervalStart: '{day} from', intervalEnd: '{day} until',
    overnight: '(until the next morning)', removeInterval: 'Remove these hours', addInterval: 'Add hours', holiday: 'Holiday', removeHoliday: 'Remove this holiday',
    timeZone: 'Time zone', hoursHelp: 'An end before the start runs past midnight (22:00–02:00); 00:00 as the end means midnight.', holidays: 'Holidays (closed all day)',
    addHoliday: 'Add a holiday', alwaysOpen: 'Always open', position: 'Order', ruleEvent: 'When', ruleSummary: 'Rule', enabled: 'Enabled',
    event_conversation_created: 'A conversation starts', event_message_received: 'A visitor writes', enabledRule: 'Rule {name} enabled', editRule: 'Edit rule', newRule: 'New rule',
    op_contains: 'contains', op_equals: 'equals', op_starts_with: 'starts with', op_regex: 'matches regex', act_set_team: 'Set team', act_set_priority: 'Set priority',
    act_add_label: 'Add label', always: 'always', condField: 'Field', condOp: 'Operator', condValue: 'Value', removeCondition: 'Remove condition', actionType: 'Action',
    actionValue: 'Action value', removeAction: 'Remove action', ruleMatch: 'Conditions to meet', match_all: 'All of them', match_any: 'Any of them', conditions: 'Conditions',
    actions: 'Actions', addCondition: 'Add condition', addAction: 'Add action',
    day_mon: 'Monday', day_tue: 'Tuesday', day_wed: 'Wednesday', day_thu: 'Thursday', day_fri: 'Friday', day_sat: 'Saturday', day_sun: 'Sunday',
    kbSearch: 'Search questions and answers', importFile: 'Import a CSV or JSON file', kbCount: '{n} entries; showing {shown} of {hits}', questions: 'Questions',
    answer: 'Answer', category: 'Category', enableFaq: 'Enabled', editFaq: 'Edit FAQ entry', newFaq: 'New FAQ entry', questionsHelp: 'Questions (one per line)',
    imported: '{n} entries imported.', importSample: 'Import the sample FAQ', exportCsv: 'Export CSV', exportJson: 'Export JSON',
    importHelp: 'CSV header: category,answer,questions,enabled (questions separated by |). The whole file is checked before anything is saved.',
    synonyms: 'Synonyms', synonymsHelp: 'One group per line, words separated by commas (e.g. 退货, 退款, return)',
    botMode: 'Bot mode', botMode_off: 'Off', botMode_bot_first: 'The bot answers first', botMode_outside_hours: 'Only outside business hours',
    botGreeting: 'Greeting', botQuickReplies: 'Quick replies (one per line)', botThreshold: 'Confidence needed to answer (0–1; 0: default)',
    botHandoffAfter: 'Hand off to a person after this many unanswered turns (0: default)', unanswered: 'Unanswered questions', question: 'Question',
    timesAsked: 'Times asked', examples: 'Examples', createFaq: 'Create FAQ from this', noUnanswered: 'The bot answered every question.', feedback: 'Visitor feedback',
    feedbackSummary: '{helpful} helpful, {unhelpful} not helpful', time: 'Time', helpfulQ: 'Helpful?', yes: 'Yes', no: 'No', noFeedback: 'No feedback yet.',
    queue: 'Queue', agentsOnline: 'Agents', queueWaiting: '{n} waiting', load: '{open}/{capacity} chats', queuePlace: 'No. {n} in queue',
    reminderShort: 'Waiting', teamN: 'Team #{n}', reminderTitle: 'A visitor is waiting for your answer', reminderToast: '{name} is waiting for your answer', transferredToYou: 'Transferred to you',
    assignedToYou: 'Assigned to you', suggest: 'Suggest answers', suggestHelp: 'Answers from the knowledge base for the visitor\'s last message',
    suggestions: 'Suggested answers', suggestionsFor: 'Suggested answers for “{q}”', noSuggestions: 'The knowledge base has no answer for this.',
    botTranscript: 'Bot transcript ({n} steps)', handedOff: 'handed off to a person', outcome_answered: 'Answered', outcome_unanswered: 'No answer',
    outcome_handoff: 'Hand-off', outcome_greeting: 'Greeting', transfer: 'Transfer', transferred: 'Transferred.', transferTitle: 'Transfer the conversation',
    transferTo: 'To an agent or a team', transferNote: 'Note for the next person (private)', pickTarget: 'Choose an agent or a team', agents: 'Agents', teams: 'Teams',
    team: 'Team', anyTeam: 'any', priority: 'Priority', priority_none: 'None', priority_low: 'Low', priority_medium: 'Medium', priority_high: 'High', priority_urgent: 'Urgent',
    reminderText: 'The visitor has been waiting for an answer since {time}.', dismiss: 'Dismiss', intent: 'intent', confidence: 'confidence', quickReplies: 'Quick replies',
    admin_documents: 'Documents', admin_intents: 'Intents', admin_llm: 'Language model',
    docsHelp: 'The bot answers from these documents too: each is split into passages. Markdown, plain text or HTML.',
    docTitle: 'Title', docFormat: 'Format', docPassages: 'Passages', docCreated: 'Uploaded', deleteDoc: 'Delete document {name}', noDocs: 'No documents yet.',
    uploadDoc: 'Upload a document', docFile: 'File (.md, .txt, .html), or paste the text below', docContent: 'Content', upload: 'Upload',
    format_markdown: 'Markdown', format_text: 'Plain text', format_html: 'HTML',
    llmEnabled: 'Answer with the language model when the knowledge base is not sure', llmBaseURL: 'Server address (base URL)', llmModel: 'Model',
    llmEmbeddingModel: 'Embedding model (empty: no embeddings)', llmBaseURLHelp: 'Any OpenAI-compatible server: https://api.openai.com, http://127.0.0.1:11434 (Ollama), http://127.0.0.1:8000 (vLLM).',
    llmKeySet: 'An API key is stored. It is never shown again.', llmKeyNotSet: 'No API key is stored.', llmKeyReplace: 'Replace the API key (leave empty to keep it)',
    llmKeyNew: 'API key (leave empty if the server needs none)', llmKeyRemove: 'Remove the API key', llmKeyRemoveConfirm: 'Remove the stored API key?',
    llmGrounded: 'Answer only from the knowledge base', llmSystemPrompt: 'System prompt', llmTemperature: 'Temperature (0–2)',
    llmMaxTokens: 'Longest answer in tokens (0: default)', llmTimeout: 'Timeout in milliseconds (0: default)', llmDailyCap: 'Daily token cap (0: no cap)',
    llmPromptPrice: 'Price per 1,000 prompt tokens', llmCompletionPrice: 'Price per 1,000 answer tokens', llmUsage: 'Usage in the last 30 days',
    llmCapIs: 'Daily cap: {n} tokens.', llmCapReached: 'Reached today: the model is not used until tomorrow (UTC).', llmCapNotReached: 'Not reached today.',
    llmNoCap: 'No daily cap.', day: 'Day', total: 'Total', llmRequests: 'Requests', llmPromptTokens: 'Prompt tokens', llmCompletionTokens: 'Answer tokens', llmCost: 'Cost',
    intentsHelp: 'An intent recognises what a visitor wants (from examples, keywords or patterns) and replies, calls a webhook or hands off to a person.',
    intentTriggers: 'Recognised by', intentResponse: 'Response', intentWebhook: 'webhook', intentHandoff: 'hand-off', editIntent: 'Edit intent', newIntent: 'New intent',
    deleteIntent: 'Delete intent {name}', noIntents: 'No intents yet.', intentExamples: 'Example phrases (one per line)', intentKeywords: 'Keywords (one per line)',
    intentPatterns: 'Regular expressions (one per line)', intentEntities: 'Details to pick out of the message', intentReply: 'Reply',
    intentAction: 'Webhook action (JSON, optional)', intentActionHelp: 'e.g. {"url": "https://shop.example/hook", "secret": "…", "template": "Order {{entities.order_number}}: {{status}}"}; leave empty for none.',
    intentSecretKept: 'A webhook secret is stored; leave "secret" out to keep it.', intentHandoffLabel: 'Hand off to a person', intentActionBadJSON: 'The webhook action is not valid JSON: {error}',
    intentActionNotObject: 'The webhook action must be a JSON object.',
    widgetSettings: 'Widget', widgetTitle: 'Panel title (empty: the inbox name)', widgetLauncherText: 'Launcher text (empty: icon only)',
    widgetPosition: 'Position on the page', widgetRight: 'Bottom right', widgetLeft: 'Bottom left', widgetLocale: 'Widget language',
    widgetLocaleBrowser: 'The visitor\'s browser', widgetOfflineMessage: 'Offline message (empty: the default text)',
    prechatForm: 'Pre-chat form', prechatEnabled: 'Ask these fields before the first message', prechatHelp: 'Answers to fields named name, email and phone are stored on the contact; other names become contact attributes. Leave the label empty for name, email and phone to use the widget\'s own words.',
    fieldName: 'Field key (letters, digits, _)', fieldLabel: 'Label shown to the visitor', fieldType: 'Type', fieldRequired: 'Required', fieldOptions: 'Options (one per line)',
    fieldType_text: 'Text', fieldType_email: 'Email', fieldType_tel: 'Phone number', fieldType_select: 'Choice list', fieldType_textarea: 'Long text',
    addField: 'Add field', removeField: 'Remove field', moveFieldUp: 'Move field up', moveFieldDown: 'Move field down',
    identityTitle: 'Identity verification', identityHelp: 'Kefu.identify({id, hash}) binds a logged-in customer to one contact on every device. hash is the hex HMAC-SHA256 of your user id under this secret: compute it on your server and never put the secret in a web page.',
    inboxSecret: 'Secret', showSecret: 'Show secret', hideSecret: 'Hide secret', rotateSecret: 'Rotate secret', rotateSecretNow: 'Rotate now',
    rotateWarning: 'A new secret is made now and the old one stops verifying at once: update your server before visitors identify again.',
    secretRotated: 'Secret rotated: hashes made with the old one are refused.', hmacTitle: 'Compute the hash on your server', identifyInPage: 'then, in the page:',
    entity_order_number: 'Order number', entity_phone: 'Phone', entity_email: 'Email', entity_date: 'Date',
  },
  'zh-CN': {
    active: '在职', add: '添加', addLabel: '添加标签…', agent: '客服', allInboxes: '全部渠道', allowedOrigins: '允许的来源（每行一个；留空表示任意网站）',
    anyStatus: '全部状态', assignMe: '分配给我', assignee: '负责人', attach: '上传文件', attachment: '[附件]',
    attrName: '属性', attrValue: '值', attributes: '自定义属性', availability: '在线状态',
    availabilityFailed: '无法保存在线状态：', backToInbox: '返回会话', badLogin: '邮箱或密码错误。', bot: '机器人',
    browser: '浏览器', cancel: '取消', cannedResponses: '快捷回复', changePassword: '修改密码', close: '关闭', color: '颜色',
    composer: '消息', composerHint: '回复…（Enter 发送，Shift+Enter 换行，/ 插入快捷回复）', confirmDelete: '确定删除？',
    connected: '已连接', connecting: '连接中…', contact: '客户', contacts: '客户', content: '内容', conversation: '会话',
    conversations: '会话', copied: '已复制。', copy: '复制', copyManually: '已选中，请按 Ctrl+C 复制。', create: '创建',
    currentPage: '当前页面', currentPassword: '当前密码', deactivate: '停用', delete: '删除', description: '说明',
    edit: '编辑', email: '邮箱', enableNotifications: '开启通知和提示音',
    forbiddenText: '此页面仅限管理员访问。如需权限，请联系工作区管理员。', forbiddenTitle: '仅限管理员',
    greeting: '欢迎语', inOneHour: '1 小时后', inactive: '已停用', inboxFilter: '渠道', initialPassword: '初始密码（至少 8 位）',
    installHelp: '把这段代码粘贴到网站每个页面的 </body> 之前。', installSnippet: '安装聊天插件', inviteAgent: '添加客服',
    language: '语言', lastSeen: '最近访问', login: '登录',
    maxConcurrent: '同时接待数（0：按渠道默认）', maxConcurrentOf: '{name} 的同时接待数（0：按渠道默认）', logout: '退出', mainNav: '主导航', messages: '消息',
    mode_note: '内部备注', mode_reply: '回复', name: '姓名', newConversation: '新会话', newInbox: '新建渠道',
    newMessageFrom: '{name} 发来新消息', newPassword: '新密码', noConversations: '暂无会话。', noMessages: '暂无消息',
    noResults: '没有找到。', notFound: '页面不存在', noteHint: '内部备注：只有客服可见', notePrefix: '备注：',
    notifications: '通知', notificationsBlocked: '浏览器已阻止本站的通知。',
    notificationsHelp: '有新会话和新消息时播放提示音；此标签页在后台时弹出通知。',
    notificationsOn: '通知已开启。', password: '密码', passwordChanged: '密码已修改，其他登录已退出。', phone: '电话',
    pickConversation: '请在左侧选择一个会话。', pickTime: '或选择时间', presence_away: '离开', presence_offline: '离线',
    presence_online: '在线', previousConversations: '历史会话', privateNote: '内部备注', profile: '个人资料', rating: '满意度',
    reactivate: '重新启用', reconnecting: '重新连接中…', removeAttr: '删除属性 {name}', removeLabel: '移除标签 {name}', reopen: '重新打开',
    resolve: '解决', role: '角色', roleOf: '{name} 的角色', role_admin: '管理员', role_agent: '客服', save: '保存', saved: '已保存。',
    search: '搜索', searchPlaceholder: '搜索客户和消息', seen: '已读', send: '发送', sendFailed: '发送失败：', settings: '设置',
    shortCode: '快捷码', shortcuts: '快捷键', snooze: '稍后处理', snoozeUntil: '稍后处理直到', snoozedUntil: '直到 {time}', state: '状态',
    statusFilter: '状态', status_open: '进行中', status_pending: '待处理', status_resolved: '已解决', status_snoozed: '稍后处理',
    tab_all: '全部', tab_mine: '我的', tab_unassigned: '未分配', tomorrowMorning: '明天 9:00', unassigned: '未分配',
    unreadCount: '{n} 条未读', visit: '访问信息', visitorN: '访客 #{n}', visitorTyping: '访客正在输入…', workspaceName: '工作区名称', youPrefix: '我：',
    admin_agents: '客服', admin_inboxes: '渠道', admin_canned: '快捷回复', admin_labels: '标签', admin_account: '账户',
    keyNext: '下一个会话', keyPrev: '上一个会话', keyResolve: '解决或重新打开', keyReply: '撰写回复', keySearch: '搜索',
    keySend: '发送', keyNewline: '换行', keyCanned: '插入快捷回复', keyHelp: '显示帮助', keyClose: '关闭对话框；离开输入框',
    now: '刚刚', minutes: '{n} 分钟', hours: '{n} 小时', days: '{n} 天',
    admin_teams: '团队', admin_routing: '分配规则', admin_rules: '路由规则', admin_kb: '知识库', admin_bot: '机器人', admin_botreports: '机器人报表',
    members: '成员', teamName: '团队名称', membersOf: '{name} 的成员', rename: '重命名', saveMembers: '保存成员', newTeam: '新建团队',
    noInboxes: '还没有渠道。', policy: '分配方式', policy_least_loaded: '分给最空闲的在线客服', policy_round_robin: '轮流分配', policy_manual: '手动（只排队）',
    routingTeams: '负责此渠道的团队（不选：所有客服）', noTeams: '还没有团队。', defaultCapacity: '每位客服同时接待数（客服未单独设置时）',
    sticky: '老访客优先分给上次接待的客服', businessHours: '工作时间', autoResolveAfter: '访客无回复多久后自动解决（分钟，0 为不自动）',
    remindAfter: '访客等待回复多久后提醒客服（分钟，0 为不提醒）', intervalStart: '{day} 开始', intervalEnd: '{day} 结束',
    overnight: '（到次日）', removeInterval: '删除此时段', addInterval: '添加时段', holiday: '节假日', removeHoliday: '删除此节假日',
    timeZone: '时区', hoursHelp: '结束早于开始表示跨过午夜（22:00–02:00）；结束为 00:00 表示到午夜。', holidays: '节假日（全天休息）',
    addHoliday: '添加节假日', alwaysOpen: '全天候', position: '顺序', ruleEvent: '触发时机', ruleSummary: '规则', enabled: '启用',
    event_conversation_created: '会话开始时', event_message_received: '访客发消息时', enabledRule: '启用规则 {name}', editRule: '编辑规则', newRule: '新建规则',
    op_contains: '包含', op_equals: '等于', op_starts_with: '开头是', op_regex: '匹配正则', act_set_team: '指定团队', act_set_priority: '设置优先级',
    act_add_label: '添加标签', always: '总是', condField: '字段', condOp: '运算', condValue: '值', removeCondition: '删除条件', actionType: '动作',
    actionValue: '动作值', removeAction: '删除动作', ruleMatch: '满足条件', match_all: '全部满足', match_any: '任一满足', conditions: '条件',
    actions: '动作', addCondition: '添加条件', addAction: '添加动作',
    day_mon: '周一', day_tue: '周二', day_wed: '周三', day_thu: '周四', day_fri: '周五', day_sat: '周六', day_sun: '周日',
    kbSearch: '搜索问题和答案', importFile: '导入 CSV 或 JSON 文件', kbCount: '共 {n} 条；显示 {hits} 条中的 {shown} 条', questions: '问题',
    answer: '答案', category: '分类', enableFaq: '启用', editFaq: '编辑问答', newFaq: '新建问答', questionsHelp: '问题（每行一个）',
    imported: '已导入 {n} 条。', importSample: '导入示例问答', exportCsv: '导出 CSV', exportJson: '导出 JSON',
    importHelp: 'CSV 表头：category,answer,questions,enabled（多个问题用 | 分隔）。整个文件校验通过后才会保存。',
    synonyms: '同义词', synonymsHelp: '每行一组，词之间用逗号分隔（如：退货, 退款, return）',
    botMode: '机器人模式', botMode_off: '关闭', botMode_bot_first: '机器人优先接待', botMode_outside_hours: '仅在非工作时间',
    botGreeting: '欢迎语', botQuickReplies: '快捷选项（每行一个）', botThreshold: '回答所需置信度（0–1；0 为默认）',
    botHandoffAfter: '连续几次答不上来后转人工（0 为默认）', unanswered: '未回答的问题', question: '问题',
    timesAsked: '提问次数', examples: '示例', createFaq: '据此新建问答', noUnanswered: '机器人回答了所有问题。', feedback: '访客评价',
    feedbackSummary: '{helpful} 条有帮助，{unhelpful} 条没帮助', time: '时间', helpfulQ: '有帮助？', yes: '是', no: '否', noFeedback: '暂无评价。',
    queue: '排队', agentsOnline: '客服', queueWaiting: '{n} 人排队', load: '{open}/{capacity} 个会话', queuePlace: '排队第 {n} 位',
    reminderShort: '待回复', teamN: '团队 #{n}', reminderTitle: '有访客在等待您的回复', reminderToast: '{name} 正在等待您的回复', transferredToYou: '已转接给您',
    assignedToYou: '已分配给您', suggest: '推荐回答', suggestHelp: '根据访客最后一条消息从知识库推荐回答',
    suggestions: '推荐回答', suggestionsFor: '“{q}”的推荐回答', noSuggestions: '知识库中没有相关回答。',
    botTranscript: '机器人记录（{n} 步）', handedOff: '已转人工', outcome_answered: '已回答', outcome_unanswered: '未能回答',
    outcome_handoff: '转人工', outcome_greeting: '欢迎语', transfer: '转接', transferred: '已转接。', transferTitle: '转接会话',
    transferTo: '转给客服或团队', transferNote: '给接手人的备注（内部）', pickTarget: '请选择客服或团队', agents: '客服', teams: '团队',
    team: '团队', anyTeam: '不限', priority: '优先级', priority_none: '无', priority_low: '低', priority_medium: '中', priority_high: '高', priority_urgent: '紧急',
    reminderText: '访客从 {time} 起一直在等待回复。', dismiss: '知道了', intent: '意图', confidence: '置信度', quickReplies: '快捷选项',
    admin_documents: '文档', admin_intents: '意图', admin_llm: '大模型',
    docsHelp: '机器人也会根据这些文档回答：每篇文档会被切分成段落。支持 Markdown、纯文本和 HTML。',
    docTitle: '标题', docFormat: '格式', docPassages: '段落数', docCreated: '上传时间', deleteDoc: '删除文档 {name}', noDocs: '还没有文档。',
    uploadDoc: '上传文档', docFile: '文件（.md、.txt、.html），或在下方粘贴文本', docContent: '内容', upload: '上传',
    format_markdown: 'Markdown', format_text: '纯文本', format_html: 'HTML',
    llmEnabled: '知识库没把握时用大模型回答', llmBaseURL: '服务地址（Base URL）', llmModel: '模型',
    llmEmbeddingModel: '向量模型（留空：不用向量）', llmBaseURLHelp: '任何兼容 OpenAI 的服务：https://api.openai.com、http://127.0.0.1:11434（Ollama）、http://127.0.0.1:8000（vLLM）。',
    llmKeySet: '已保存 API 密钥，不会再显示。', llmKeyNotSet: '未保存 API 密钥。', llmKeyReplace: '更换 API 密钥（留空则保留原密钥）',
    llmKeyNew: 'API 密钥（服务不需要时留空）', llmKeyRemove: '删除 API 密钥', llmKeyRemoveConfirm: '确定删除已保存的 API 密钥？',
    llmGrounded: '只根据知识库回答', llmSystemPrompt: '系统提示词', llmTemperature: '温度（0–2）',
    llmMaxTokens: '回答最多 token 数（0 为默认）', llmTimeout: '超时（毫秒，0 为默认）', llmDailyCap: '每日 token 上限（0 为不限）',
    llmPromptPrice: '每千输入 token 价格', llmCompletionPrice: '每千输出 token 价格', llmUsage: '最近 30 天用量',
    llmCapIs: '每日上限：{n} token。', llmCapReached: '今天已达上限：明天（UTC）之前不再调用大模型。', llmCapNotReached: '今天未达上限。',
    llmNoCap: '不限每日用量。', day: '日期', total: '合计', llmRequests: '请求数', llmPromptTokens: '输入 token', llmCompletionTokens: '输出 token', llmCost: '费用',
    intentsHelp: '意图用于识别访客想做什么（根据示例、关键词或正则），然后回复、调用 Webhook 或转人工。',
    intentTriggers: '识别依据', intentResponse: '响应', intentWebhook: 'Webhook', intentHandoff: '转人工', editIntent: '编辑意图', newIntent: '新建意图',
    deleteIntent: '删除意图 {name}', noIntents: '还没有意图。', intentExamples: '示例句子（每行一个）', intentKeywords: '关键词（每行一个）',
    intentPatterns: '正则表达式（每行一个）', intentEntities: '从消息中提取的信息', intentReply: '回复',
    intentAction: 'Webhook 动作（JSON，可选）', intentActionHelp: '例如 {"url": "https://shop.example/hook", "secret": "…", "template": "订单 {{entities.order_number}} 状态：{{status}}"}；不需要则留空。',
    intentSecretKept: '已保存 Webhook 密钥；不填 "secret" 则保留原密钥。', intentHandoffLabel: '转人工', intentActionBadJSON: 'Webhook 动作不是有效的 JSON：{error}',
    intentActionNotObject: 'Webhook 动作必须是 JSON 对象。',
    widgetSettings: '聊天插件', widgetTitle: '窗口标题（留空：使用渠道名称）', widgetLauncherText: '按钮文字（留空：只显示图标）',
    widgetPosition: '页面位置', widgetRight: '右下角', widgetLeft: '左下角', widgetLocale: '插件语言',
    widgetLocaleBrowser: '跟随访客浏览器', widgetOfflineMessage: '离线留言提示（留空：使用默认文字）',
    prechatForm: '咨询前表单', prechatEnabled: '访客发第一条消息前先填写以下字段', prechatHelp: '名为 name、email、phone 的字段保存到客户资料；其他名称保存为客户自定义属性。name、email、phone 的显示名称留空则使用插件自带的文字。',
    fieldName: '字段键名（字母、数字、_）', fieldLabel: '显示给访客的名称', fieldType: '类型', fieldRequired: '必填', fieldOptions: '选项（每行一个）',
    fieldType_text: '文本', fieldType_email: '邮箱', fieldType_tel: '电话号码', fieldType_select: '下拉选择', fieldType_textarea: '多行文本',
    addField: '添加字段', removeField: '删除字段', moveFieldUp: '上移字段', moveFieldDown: '下移字段',
    identityTitle: '身份验证', identityHelp: 'Kefu.identify({id, hash}) 把已登录的客户在所有设备上绑定为同一个客户。hash 是用此密钥对您的用户 ID 计算的 HMAC-SHA256（十六进制）：请在您的服务器上计算，切勿把密钥放进网页。',
    inboxSecret: '密钥', showSecret: '显示密钥', hideSecret: '隐藏密钥', rotateSecret: '更换密钥', rotateSecretNow: '立即更换',
    rotateWarning: '将立即生成新密钥，旧密钥马上失效：请在访客再次验证身份前更新您的服务器。',
    secretRotated: '密钥已更换：用旧密钥计算的 hash 将被拒绝。', hmacTitle: '在您的服务器上计算 hash', identifyInPage: '然后在网页中：',
    entity_order_number: '订单号', entity_phone: '电话', entity_email: '邮箱', entity_date: '日期',
  },
};

function pick() {
  const saved = localStorage.getItem(KEY);
  if (saved && STRINGS[saved]) return saved;
  for (const l of navigator.languages || [navigator.language || 'en']) {
    if (/^zh\b/i.test(l)) return 'zh-CN';
    if (/^en\b/i.test(l)) return 'en';
  }
  return 'en';
}

let current = pick();

export function locale() { return current; }

export function setLocale(code) {
  if (!STRINGS[code]) return;
  current = code;
  localStorage.setItem(KEY, code);
}

// t looks a key up and fills {name} placeholders (as text: the result is
// only ever put into text nodes).
export function t(key, vars) {
  let s = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

// relTime is "how long ago", short: now, 5m, 3h, 2d.
export function relTime(iso) {
  const d = (Date.now() - new Date(iso).getTime()) / 1000;
  if (!(d >= 60)) return t('now');
  if (d < 3600) return t('minutes', { n: Math.floor(d / 60) });
  if (d < 86400) return t('hours', { n: Math.floor(d / 3600) });
  return t('days', { n: Math.floor(d / 86400) });
}

export function fmtTime(iso) {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(current);
}
