package main

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/daemongen/daemongen/generator"
)

var completionShells = []string{"bash", "zsh", "fish", "powershell"}

// newCompletionCmd replaces cobra's default completion command: an unknown shell is a usage
// error (cobra's exits 0), and the bash script is patched to work after a comma.
func newCompletionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "completion SHELL",
		Short: "Print a shell completion script (bash, zsh, fish or powershell)",
		Long: `Print a shell completion script for daemongen. To load it:

  bash:       source <(daemongen completion bash)
  zsh:        daemongen completion zsh > "${fpath[1]}/_daemongen"
  fish:       daemongen completion fish | source
  powershell: daemongen completion powershell | Out-String | Invoke-Expression`,
		ValidArgs: completionShells,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || !slices.Contains(completionShells, args[0]) {
				return usageErrorf("name one shell: %s (see %s --help)", strings.Join(completionShells, ", "), cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				var b bytes.Buffer
				if err := root.GenBashCompletionV2(&b, true); err != nil {
					return err
				}
				script, err := patchBashCompletion(b.String())
				if err != nil {
					return err
				}
				_, err = fmt.Fprint(e.stdout, script)
				return err
			case "zsh":
				return root.GenZshCompletion(e.stdout)
			case "fish":
				return root.GenFishCompletion(e.stdout, true)
			default:
				return root.GenPowerShellCompletionWithDesc(e.stdout)
			}
		},
	}
}

// bashPatches follow each place cobra's bash script escapes a completion with printf %q.
// bash 5.2's %q escapes commas ("signals\,batch"), so a completion after a comma no longer
// starts with what the user typed and bash offers nothing. A comma needs no quoting on a
// command line, so the escape is dropped again.
var bashPatches = []struct{ find, add string }{
	{`printf -v comp "%q" "${compline%%$tab*}" &>/dev/null || comp=$(printf "%q" "${compline%%$tab*}")`, `comp=${comp//\\,/,}`},
	{`COMPREPLY[0]=$(printf "%q" "${COMPREPLY[0]%%$tab*}")`, `COMPREPLY[0]=${COMPREPLY[0]//\\,/,}`},
	{`COMPREPLY[0]=$(printf "%q" "${COMPREPLY[0]}")`, `COMPREPLY[0]=${COMPREPLY[0]//\\,/,}`},
}

func patchBashCompletion(script string) (string, error) {
	for _, p := range bashPatches {
		if !strings.Contains(script, p.find) {
			// cobra changed its script: fail loudly rather than ship a completion that stops at commas.
			return "", fmt.Errorf("bash completion: cobra's script no longer contains %q; update patchBashCompletion", p.find)
		}
		script = strings.ReplaceAll(script, p.find, p.find+"\n        "+p.add)
	}
	return script, nil
}

// completeFeatureList completes the last element of a comma-separated feature list, offering
// only features not already in the list and not in have.
func completeFeatureList(toComplete string, have []string) []string {
	prefix := ""
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		prefix = toComplete[:i+1]
	}
	listed := strings.Split(strings.TrimSuffix(prefix, ","), ",")
	out := []string{}
	if prefix == "" && len(have) == 0 {
		out = append(out, "none\tno optional feature", "all\tevery feature")
	}
	for _, f := range generator.Catalog {
		if slices.Contains(listed, f.Name) || slices.Contains(have, f.Name) {
			continue
		}
		out = append(out, prefix+f.Name+"\t"+f.Label)
	}
	return out
}

func noFiles(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveNoFileComp
}

func dirsOnly(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// registerSettingCompletions stops file completion for flags that take no path: a module path,
// a duration or an address is never a file in the working directory.
func registerSettingCompletions(cmd *cobra.Command, flags ...string) {
	for _, s := range generator.AllSettings() {
		flags = append(flags, s.Key)
	}
	for _, name := range flags {
		_ = cmd.RegisterFlagCompletionFunc(name, noFiles)
	}
}

// completeAddArgs offers the features the project does not have yet and the command line does
// not name already.
func completeAddArgs(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	dir, _ := cmd.Flags().GetString("dir")
	var have []string
	if root, err := findProject(dir); err == nil {
		if m, err := loadProject(root); err == nil {
			have = m.Answers.Features
		}
	}
	var out []string
	for _, f := range generator.Catalog {
		if !slices.Contains(have, f.Name) && !slices.Contains(args, f.Name) {
			out = append(out, f.Name+"\t"+f.Label)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
