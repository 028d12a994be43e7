// Every string the widget shows, in every language it speaks. The loader
// gets the few it needs (launcher labels) from the panel, so this is the
// one place to translate. A test checks both tables have the same keys.
export const strings = {
  en: {
    openChat: 'Open chat',
    closeChat: 'Close chat',
    title: 'Chat with us',
    online: 'We are online',
    offline: 'We are away',
    messagePlaceholder: 'Write a message…',
    messageLabel: 'Message',
    send: 'Send',
    attach: 'Attach a file',
    removeAttachment: 'Remove attachment',
    uploading: 'Uploading…',
    uploadFailed: 'The file could not be sent: {reason}',
    sending: 'Sending…',
    notSent: 'Not sent yet, retrying…',
    seen: 'Seen',
    typing: '{name} is typing…',
    someone: 'Someone',
    agent: 'Agent',
    bot: 'Bot',
    you: 'You',
    joined: '{name} joined the conversation',
    resolved: 'This conversation was marked as resolved.',
    newConversation: 'Start a new conversation',
    queue: 'You are number {position} in the queue, about {minutes} min.',
    queueSoon: 'You are number {position} in the queue.',
    reconnecting: 'Reconnecting…',
    unavailable: 'Chat is unavailable right now. Please try again later.',
    loadEarlier: 'Load earlier messages',
    prechatIntro: 'Please tell us a little about yourself before we start.',
    offlineIntro: 'We are away right now. Leave a message and we will get back to you by email.',
    offlineThanks: 'Thanks! Your message was sent. We will reply as soon as we can.',
    start: 'Start chat',
    sendMessage: 'Send message',
    required: 'required',
    fieldRequired: '{field} is required.',
    fieldEmail: 'Please enter a valid email address.',
    choose: 'Choose…',
    field_name: 'Name',
    field_email: 'Email',
    field_phone: 'Phone',
    field_message: 'Message',
    rateTitle: 'How was your conversation?',
    rateStar: '{n} of 5',
    rateComment: 'Anything to add? (optional)',
    rateSubmit: 'Send rating',
    rateThanks: 'Thank you for your feedback!',
    rateChange: 'Change rating',
    rated: 'You rated this conversation {n} of 5.',
    identifyFailed: 'Your identity could not be verified.',
    download: 'Download {name}',
    image: 'Image {name}',
    unreadBadge: '{n} unread messages',
    poweredBy: 'Powered by Kefu',
    feedbackPrompt: 'Was this answer helpful?',
    feedbackHelpful: 'Helpful',
    feedbackNotHelpful: 'Not helpful',
    feedbackThanksHelpful: 'You found this helpful. Thank you!',
    feedbackThanksNotHelpful: 'You found this not helpful. Thank you for telling us.',
    feedbackFailed: 'Your feedback could not be sent: {reason}',
  },
  'zh-CN': {
    openChat: '打开聊天',
    closeChat: '关闭聊天',
    title: '在线客服',
    online: '客服在线',
    offline: '客服暂时不在',
    messagePlaceholder: '输入消息…',
    messageLabel: '消息',
    send: '发送',
    attach: '发送文件',
    removeAttachment: '移除附件',
    uploading: '正在上传…',
    uploadFailed: '文件未能发送：{reason}',
    sending: '正在发送…',
    notSent: '尚未发送，正在重试…',
    seen: '已读',
    typing: '{name}正在输入…',
    someone: '对方',
    agent: '客服',
    bot: '机器人',
    you: '我',
    joined: '{name}加入了对话',
    resolved: '本次对话已结束。',
    newConversation: '开始新的对话',
    queue: '您前面还有 {position} 位，预计等待约 {minutes} 分钟。',
    queueSoon: '您前面还有 {position} 位。',
    reconnecting: '正在重新连接…',
    unavailable: '客服暂时无法使用，请稍后再试。',
    loadEarlier: '查看更早的消息',
    prechatIntro: '开始对话前，请留下您的信息。',
    offlineIntro: '我们暂时不在线。请留言，我们会通过邮件回复您。',
    offlineThanks: '谢谢！您的留言已发送，我们会尽快回复。',
    start: '开始对话',
    sendMessage: '发送留言',
    required: '必填',
    fieldRequired: '请填写{field}。',
    fieldEmail: '请输入有效的邮箱地址。',
    choose: '请选择…',
    field_name: '姓名',
    field_email: '邮箱',
    field_phone: '电话',
    field_message: '留言',
    rateTitle: '您对本次服务满意吗？',
    rateStar: '{n} 星（满分 5 星）',
    rateComment: '还有什么想说的？（选填）',
    rateSubmit: '提交评价',
    rateThanks: '感谢您的评价！',
    rateChange: '修改评价',
    rated: '您的评价：{n} 星（满分 5 星）。',
    identifyFailed: '无法验证您的身份。',
    download: '下载 {name}',
    image: '图片 {name}',
    unreadBadge: '{n} 条未读消息',
    poweredBy: '由 Kefu 提供支持',
    feedbackPrompt: '这个回答有帮助吗？',
    feedbackHelpful: '有帮助',
    feedbackNotHelpful: '没帮助',
    feedbackThanksHelpful: '您认为这个回答有帮助，谢谢！',
    feedbackThanksNotHelpful: '您认为这个回答没有帮助，感谢反馈。',
    feedbackFailed: '反馈未能发送：{reason}',
  },
};

// pickLocale chooses the widget's language: an explicit choice (the
// data-locale attribute or Kefu.setLocale), then the inbox's default, then
// the browser's languages.
export function pickLocale(explicit, inboxDefault, browser) {
  for (const l of [explicit, inboxDefault]) {
    const m = match(l);
    if (m) return m;
  }
  for (const l of browser || []) {
    const m = match(l);
    if (m) return m;
  }
  return 'en';
}

function match(l) {
  if (!l) return '';
  l = String(l).toLowerCase();
  if (l.startsWith('zh')) return 'zh-CN';
  if (l.startsWith('en')) return 'en';
  return '';
}

// translator returns t(key, vars) for a locale; a missing key falls back
// to English, then to the key itself.
export function translator(locale) {
  const table = strings[locale] || strings.en;
  return (key, vars) => {
    let s = table[key] ?? strings.en[key] ?? key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
    return s;
  };
}
