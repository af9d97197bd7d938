import { useTitle } from "../lib/useTitle";
import { PageHeader } from "../shell/PageHeader";

export function AgentsPage() {
  useTitle("Agents");
  return <PageHeader title="Agents" />;
}
