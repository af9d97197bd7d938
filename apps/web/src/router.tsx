import { createBrowserRouter } from "react-router";
import { LandingGate, RequireSession, RequireSetupPending, RequireSignedOut } from "./auth/guards";
import { ConversationPage } from "./conversations/ConversationPage";
import { NewConversationPage } from "./conversations/NewConversationPage";
import { AgentLayout } from "./shell/AgentLayout";
import { NotFoundPage, Root, RouteError } from "./shell/Root";
import { SettingsLayout } from "./shell/SettingsLayout";

// Conversations load with the app; other pages arrive as their own chunks the first time they are opened.
const page = (load: () => Promise<{ Component: React.ComponentType }>) => ({ lazy: load });

/** Every page, by layout. The guards mirror the server's page redirects (apps/server/src/http/web.ts). */
export const router = createBrowserRouter([
  {
    element: <Root />,
    errorElement: <RouteError />,
    // The first page's chunk is loading: a blank page in the app's background, no flash of anything else.
    hydrateFallbackElement: <div className="h-full bg-app" />,
    children: [
      {
        element: <LandingGate />,
        children: [
          { path: "/", ...page(() => import("./landing/LandingPage").then((m) => ({ Component: m.LandingPage }))) },
        ],
      },
      {
        element: <RequireSetupPending />,
        children: [
          { path: "/setup", ...page(() => import("./auth/SetupPage").then((m) => ({ Component: m.SetupPage }))) },
        ],
      },
      {
        element: <RequireSignedOut />,
        children: [
          { path: "/login", ...page(() => import("./auth/LoginPage").then((m) => ({ Component: m.LoginPage }))) },
        ],
      },
      {
        element: <RequireSession />,
        children: [
          {
            element: <AgentLayout />,
            children: [
              { path: "/conversations", element: <NewConversationPage /> },
              { path: "/conversations/:id", element: <ConversationPage /> },
              {
                path: "/agents",
                ...page(() => import("./agents/AgentsPage").then((m) => ({ Component: m.AgentsPage }))),
              },
              {
                path: "/agents/:id",
                ...page(() => import("./agents/AgentDetailPage").then((m) => ({ Component: m.AgentDetailPage }))),
              },
              {
                path: "/agents/:id/history/:sha?",
                ...page(() => import("./agents/AgentHistoryPage").then((m) => ({ Component: m.AgentHistoryPage }))),
              },
            ],
          },
          {
            element: <SettingsLayout />,
            children: [
              {
                path: "/dashboard",
                ...page(() => import("./dashboard/DashboardPage").then((m) => ({ Component: m.DashboardPage }))),
              },
              {
                path: "/settings",
                ...page(() => import("./settings/SettingsPage").then((m) => ({ Component: m.SettingsPage }))),
              },
              {
                path: "/system/settings",
                ...page(() =>
                  import("./settings/SystemSettingsPage").then((m) => ({ Component: m.SystemSettingsPage })),
                ),
              },
            ],
          },
        ],
      },
      { path: "*", element: <NotFoundPage /> },
    ],
  },
]);
