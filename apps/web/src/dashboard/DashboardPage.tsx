import { useTitle } from "../lib/useTitle";
import { PageHeader } from "../shell/PageHeader";
import { SettingsBody } from "../shell/SettingsLayout";

export function DashboardPage() {
  useTitle("Dashboard");
  return (
    <>
      <PageHeader title="Dashboard" />
      <SettingsBody wide>
        <p>Dashboard</p>
      </SettingsBody>
    </>
  );
}
