/** Stands in for the chat view (apps/web/src/chat) until it lands. */
export function ChatPlaceholder({ conversationId }: { conversationId: string }) {
  return (
    <div
      className="flex min-h-0 flex-1 items-center justify-center p-6 text-sm text-fg-subtle"
      data-conversation={conversationId}
    >
      Messages will appear here.
    </div>
  );
}
