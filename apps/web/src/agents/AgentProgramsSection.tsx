import { Plus } from "lucide-react";
import { useState } from "react";
import { Button, Section } from "../ui";
import { AgentBrowser } from "./AgentsPage";
import { CreateAgentDialog } from "./CreateAgentDialog";

/** /system/settings → Agent programs: browse and search every program, create one from a profile. */
export function AgentProgramsSection() {
  const [creating, setCreating] = useState(false);
  return (
    <Section
      id="agent-programs"
      title="Agent programs"
      description="Bundled programs ship with Cybros; yours are copies you can change."
      action={
        <Button size="sm" icon={<Plus aria-hidden className="size-4" />} onClick={() => setCreating(true)}>
          New agent
        </Button>
      }
    >
      <AgentBrowser compact />
      {creating ? <CreateAgentDialog onClose={() => setCreating(false)} /> : null}
    </Section>
  );
}
