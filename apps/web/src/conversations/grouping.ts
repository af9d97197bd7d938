import type { ConversationSummary } from "@cybros/protocol";

export type RecencyGroup = { label: "Today" | "Yesterday" | "Previous 7 days" | "Older"; items: ConversationSummary[] };

const DAY = 24 * 60 * 60 * 1000;

/**
 * Splits conversations (already newest first) into Today / Yesterday / Previous 7 days / Older by the local
 * calendar day of their last activity. Empty groups are left out; order inside a group is kept.
 */
export function groupByRecency(conversations: ConversationSummary[], now: Date = new Date()): RecencyGroup[] {
  const startOfToday = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
  const startOfYesterday = startOfToday - DAY;
  const startOfWeek = startOfToday - 7 * DAY;
  const groups: RecencyGroup[] = [
    { label: "Today", items: [] },
    { label: "Yesterday", items: [] },
    { label: "Previous 7 days", items: [] },
    { label: "Older", items: [] },
  ];
  for (const conversation of conversations) {
    const at = new Date(conversation.lastMessageAt).getTime();
    const index = Number.isNaN(at)
      ? 3
      : at >= startOfToday
        ? 0
        : at >= startOfYesterday
          ? 1
          : at >= startOfWeek
            ? 2
            : 3;
    groups[index]!.items.push(conversation);
  }
  return groups.filter((g) => g.items.length > 0);
}
