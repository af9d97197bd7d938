import { AgentProgramsSection } from "../agents/AgentProgramsSection";
import { useTitle } from "../lib/useTitle";
import { ProvidersSection } from "../providers/ProvidersSection";
import { PageHeader } from "../shell/PageHeader";
import { SettingsBody } from "../shell/SettingsLayout";
import { TerritoriesSection } from "../territories/TerritoriesSection";
import { AccountSettingsSection } from "./AccountSettingsSection";

/** /system/settings — what the whole installation uses: providers, agent programs, territories, account defaults. */
export function SystemSettingsPage() {
  useTitle("System settings");
  return (
    <>
      <PageHeader title="System settings" />
      <SettingsBody>
        <ProvidersSection />
        <AgentProgramsSection />
        <TerritoriesSection />
        <AccountSettingsSection />
      </SettingsBody>
    </>
  );
}
