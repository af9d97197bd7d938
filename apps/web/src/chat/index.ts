export { ConversationView } from "./ConversationView";
export { renderMarkdown } from "./markdown";
