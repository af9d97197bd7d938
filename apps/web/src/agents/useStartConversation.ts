import { useNavigate } from "react-router";
import { useCreateConversation } from "../conversations/queries";
import { errorMessage } from "../lib/api";
import { useToast } from "../ui";

/** Creates a conversation with an agent and opens it. */
export function useStartConversation() {
  const create = useCreateConversation();
  const navigate = useNavigate();
  const toast = useToast();
  return {
    isPending: create.isPending,
    variables: create.variables,
    mutate: (agentProgramId: string) =>
      create.mutate(
        { agentProgramId },
        {
          onSuccess: (conversation) => navigate(`/conversations/${conversation.id}`),
          onError: (error) => toast.show(errorMessage(error), "danger"),
        },
      ),
  };
}
