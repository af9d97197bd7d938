import { createContext, useContext } from "react";

export type ShellApi = {
  /** Phones show the sidebar as a drawer behind a menu button in each page header. */
  mobile: boolean;
  openSidebar: () => void;
};

export const ShellContext = createContext<ShellApi>({ mobile: false, openSidebar: () => {} });

export function useShell(): ShellApi {
  return useContext(ShellContext);
}
