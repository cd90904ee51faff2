/** The command line that opens the lessons in JupyterLab or, without Lab, in the classic Notebook. */

export interface JupyterLaunch {
  frontEnd: "JupyterLab" | "Jupyter Notebook";
  args: string[];
}

/**
 * Started in the project root, so the server also serves /files/node_modules/... (plots load their scripts
 * from there); the start page is the notebooks/ folder. `extra` are the user's own flags (e.g. --port 9999).
 */
export function jupyterLaunch(haveLab: boolean, extra: string[] = []): JupyterLaunch {
  if (haveLab) {
    return { frontEnd: "JupyterLab", args: ["lab", "--LabApp.default_url=/lab/tree/notebooks", ...extra] };
  }
  return {
    frontEnd: "Jupyter Notebook",
    // NotebookApp: classic Notebook 6; JupyterNotebookApp: Notebook 7. Each ignores the other's setting.
    args: ["notebook", "--NotebookApp.default_url=/tree/notebooks", "--JupyterNotebookApp.default_url=/tree/notebooks", ...extra],
  };
}
