import { useTitle } from "../lib/useTitle";
import { PageHeader } from "../shell/PageHeader";

export function AgentDetailPage() {
  useTitle("Agent");
  return <PageHeader title="Agent" />;
}
