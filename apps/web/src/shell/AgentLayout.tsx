import { Outlet } from "react-router";
import { ConversationList } from "../conversations/ConversationList";
import { Frame } from "./Frame";
import { useInspectorHost } from "./inspector";

/** Conversations and Agents: sidebar with the conversation list, the main pane, the inspector on demand. */
export function AgentLayout() {
  const inspector = useInspectorHost();
  return inspector.provider(
    <Frame
      sidebarContent={
        <nav aria-label="Conversations" className="flex min-h-0 flex-1 flex-col">
          <ConversationList />
        </nav>
      }
      right={inspector.slot}
    >
      <Outlet />
    </Frame>,
  );
}
