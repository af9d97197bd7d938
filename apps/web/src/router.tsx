import { createBrowserRouter } from "react-router";
import { AgentDetailPage } from "./agents/AgentDetailPage";
import { AgentsPage } from "./agents/AgentsPage";
import { LandingGate, RequireSession, RequireSetupPending, RequireSignedOut } from "./auth/guards";
import { LoginPage } from "./auth/LoginPage";
import { SetupPage } from "./auth/SetupPage";
import { ConversationPage } from "./conversations/ConversationPage";
import { NewConversationPage } from "./conversations/NewConversationPage";
import { DashboardPage } from "./dashboard/DashboardPage";
import { LandingPage } from "./landing/LandingPage";
import { SettingsPage } from "./settings/SettingsPage";
import { SystemSettingsPage } from "./settings/SystemSettingsPage";
import { AgentLayout } from "./shell/AgentLayout";
import { NotFoundPage, Root, RouteError } from "./shell/Root";
import { SettingsLayout } from "./shell/SettingsLayout";

/** Every page, by layout. The guards mirror the server's redirects (apps/server/src/http/web.ts). */
export const router = createBrowserRouter([
  {
    element: <Root />,
    errorElement: <RouteError />,
    children: [
      { element: <LandingGate />, children: [{ path: "/", element: <LandingPage /> }] },
      { element: <RequireSetupPending />, children: [{ path: "/setup", element: <SetupPage /> }] },
      { element: <RequireSignedOut />, children: [{ path: "/login", element: <LoginPage /> }] },
      {
        element: <RequireSession />,
        children: [
          {
            element: <AgentLayout />,
            children: [
              { path: "/conversations", element: <NewConversationPage /> },
              { path: "/conversations/:id", element: <ConversationPage /> },
              { path: "/agents", element: <AgentsPage /> },
              { path: "/agents/:id", element: <AgentDetailPage /> },
            ],
          },
          {
            element: <SettingsLayout />,
            children: [
              { path: "/dashboard", element: <DashboardPage /> },
              { path: "/settings", element: <SettingsPage /> },
              { path: "/system/settings", element: <SystemSettingsPage /> },
            ],
          },
        ],
      },
      { path: "*", element: <NotFoundPage /> },
    ],
  },
]);
