// Command waypoint is the Waypoint client self-service portal API.
//
// main.go is the dispatcher: it finds the command, parses its flags and maps
// the outcome to an exit status. The commands live in serve.go, cmd_dev.go,
// cmd_directory.go and cmd_migrate.go; configuration in config.go; the
// server itself is built by api/server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/waypoint-portal/waypoint/api"
)

// Exit statuses.
const (
	exitOK      = 0
	exitRuntime = 1 // the command ran and failed (database unreachable, bad import file, ...)
	exitConfig  = 2 // usage or configuration error: nothing was done
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr))
}

// cli is what a command may touch of the process.
type cli struct {
	env            lookupEnv
	stdout, stderr io.Writer
}

// action runs a command with its positional arguments.
type action func(ctx context.Context, e cli, args []string) error

// command is one thing waypoint does. Subcommands are spelled out in name
// ("hsds import"); the word before the space groups them.
type command struct {
	name    string
	args    string // positional arguments in the usage line, e.g. "PATH"
	nargs   int    // exactly this many positional arguments
	summary string
	// setup registers the command's flags and returns its action.
	setup func(fs *flag.FlagSet) action
}

func noFlags(a action) func(*flag.FlagSet) action { return func(*flag.FlagSet) action { return a } }

func commands() []command {
	return []command{
		{name: "serve", summary: "run the API server (migrates the database first unless --no-migrate)", setup: serveFlags},
		{name: "migrate up", summary: "apply pending database migrations", setup: noFlags(withStore(true, migrateUp))},
		{name: "migrate status", summary: "list database migrations and whether each is applied", setup: noFlags(withStore(false, migrateStatus))},
		{name: "dev token", summary: "print an access token the dev server accepts (all scopes unless --scope)", setup: devTokenFlags},
		{name: "openapi", summary: "print the OpenAPI document (YAML; OpenAPI 3.1, or 3.0 with --oas 3.0)", setup: openAPIFlags},
		{name: "asyncapi", summary: "print the AsyncAPI 3.0 document of the live event stream (YAML)", setup: noFlags(cmdAsyncAPI)},
		{name: "hsds import", args: "PATH", nargs: 1, setup: noFlags(withStore(true, hsdsImport)),
			summary: "import Open Referral HSDS 3.0 JSON (a file or a directory); upserts by HSDS id"},
		{name: "hsds export", args: "DIR", nargs: 1, setup: noFlags(withStore(true, hsdsExport)),
			summary: "write the directory as HSDS JSON that hsds import reads back"},
		{name: "insights export", args: "DIR", nargs: 1, setup: noFlags(withStore(true, insightsExport)),
			summary: "write the k-anonymous community insights as open data (CSV + Frictionless Data Package)"},
		{name: "demo seed", summary: "demo personas (dev issuer), alice's care team and goal, and a generated directory", setup: demoSeedFlags},
		{name: "version", summary: "print the version of waypoint and of its API contract", setup: noFlags(cmdVersion)},
	}
}

func run(ctx context.Context, args []string, env lookupEnv, stdout, stderr io.Writer) int {
	e := cli{env: env, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		return fail(e, configErrorf("missing command (see waypoint help)"))
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		return help(e, args[1:])
	case "-version", "--version":
		args = append([]string{"version"}, args[1:]...)
	}
	cmds := commands()
	if len(args) > 1 {
		if c := find(cmds, args[0]+" "+args[1]); c != nil {
			return fail(e, c.run(ctx, e, args[2:]))
		}
	}
	if c := find(cmds, args[0]); c != nil {
		return fail(e, c.run(ctx, e, args[1:]))
	}
	sub := group(cmds, args[0])
	switch {
	case len(sub) == 0:
		return fail(e, configErrorf("unknown command %q (see waypoint help)", args[0]))
	case len(args) == 1:
		return fail(e, configErrorf("%s: missing subcommand: %s", args[0], subNames(sub)))
	case isHelp(args[1]):
		printGroupUsage(e.stdout, args[0], sub)
		return exitOK
	}
	return fail(e, configErrorf("%s: unknown subcommand %q (want %s)", args[0], args[1], subNames(sub)))
}

// fail prints err as one line and maps it to an exit status.
func fail(e cli, err error) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(e.stderr, "waypoint: %v\n", err)
	var ce *configError
	if errors.As(err, &ce) {
		return exitConfig
	}
	return exitRuntime
}

// run parses the command's flags and arguments, then runs it. --help and -h
// print its usage on stdout and run nothing.
func (c *command) run(ctx context.Context, e cli, args []string) error {
	fs := flag.NewFlagSet("waypoint "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported in one line below
	act := c.setup(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.usage(e.stdout, fs)
			return nil
		}
		return configErrorf("%s: %v (see waypoint %s --help)", c.name, err, c.name)
	}
	if fs.NArg() > c.nargs && slices.ContainsFunc(fs.Args()[c.nargs:], isHelp) {
		// Flags stop at the first argument, so "hsds import DIR --help" asks for help too.
		c.usage(e.stdout, fs)
		return nil
	}
	if fs.NArg() != c.nargs {
		if fs.NArg() > c.nargs {
			return configErrorf("%s: unexpected argument %q (see waypoint %s --help)", c.name, fs.Arg(c.nargs), c.name)
		}
		return configErrorf("%s: missing %s (usage: waypoint %s)", c.name, c.args, c.usageLine())
	}
	return act(ctx, e, fs.Args())
}

func (c *command) usageLine() string {
	s := c.name
	if c.args != "" {
		s += " " + c.args
	}
	return s
}

func (c *command) usage(w io.Writer, fs *flag.FlagSet) {
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	line := c.usageLine()
	if hasFlags {
		line += " [flags]"
	}
	fmt.Fprintf(w, "usage: waypoint %s\n\n%s\n", line, c.summary)
	if hasFlags {
		fmt.Fprintln(w, "\nflags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	fmt.Fprintln(w, "\nconfiguration is read from the environment; see docs/operations.md.")
}

func find(cmds []command, name string) *command {
	for i := range cmds {
		if cmds[i].name == name {
			return &cmds[i]
		}
	}
	return nil
}

// group lists the subcommands of a group word such as "migrate".
func group(cmds []command, word string) []command {
	var out []command
	for _, c := range cmds {
		if strings.HasPrefix(c.name, word+" ") {
			out = append(out, c)
		}
	}
	return out
}

func subNames(sub []command) string {
	names := make([]string, len(sub))
	for i, c := range sub {
		names[i] = c.name[strings.IndexByte(c.name, ' ')+1:]
	}
	return strings.Join(names, " or ")
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// help prints the overview, or one command's (or group's) usage.
func help(e cli, args []string) int {
	if len(args) == 0 {
		printUsage(e.stdout, commands())
		return exitOK
	}
	topic := strings.Join(args, " ")
	if c := find(commands(), topic); c != nil {
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		c.setup(fs)
		c.usage(e.stdout, fs)
		return exitOK
	}
	if sub := group(commands(), topic); len(sub) > 0 {
		printGroupUsage(e.stdout, topic, sub)
		return exitOK
	}
	return fail(e, configErrorf("help: unknown command %q (see waypoint help)", topic))
}

func printUsage(w io.Writer, cmds []command) {
	fmt.Fprintln(w, "usage: waypoint <command> [flags]\n\ncommands:")
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-20s %s\n", c.usageLine(), c.summary)
	}
	fmt.Fprintf(w, "  %-20s %s\n", "help [COMMAND]", "print this overview, or a command's usage and flags")
	fmt.Fprint(w, "\nwaypoint COMMAND --help shows a command's flags. Exit status: 0 success, 1 the command failed,\n"+
		"2 usage or configuration error (nothing was done).\n"+
		"configuration is read from the environment; see docs/operations.md.\n")
}

func printGroupUsage(w io.Writer, word string, sub []command) {
	fmt.Fprintf(w, "usage: waypoint %s <%s> [flags]\n\n", word, strings.ReplaceAll(subNames(sub), " or ", "|"))
	for _, c := range sub {
		fmt.Fprintf(w, "  %-20s %s\n", c.usageLine(), c.summary)
	}
}

func openAPIFlags(fs *flag.FlagSet) action {
	oas := fs.String("oas", "3.1", "OpenAPI version of the document: 3.1 (openapi/openapi.yaml) or 3.0 (openapi/openapi-3.0.yaml, for tools that need 3.0)")
	return func(ctx context.Context, e cli, args []string) error {
		switch *oas {
		case "3.1":
			return cmdOpenAPI(ctx, e, args)
		case "3.0":
			return cmdOpenAPI30(ctx, e, args)
		}
		return configErrorf("openapi: --oas must be 3.1 or 3.0, not %q", *oas)
	}
}

func cmdOpenAPI(_ context.Context, e cli, _ []string) error {
	return writeOpenAPI(e, (*huma.OpenAPI).YAML)
}

// cmdOpenAPI30 prints the document downgraded to OpenAPI 3.0.
func cmdOpenAPI30(_ context.Context, e cli, _ []string) error {
	return writeOpenAPI(e, api.OpenAPI30YAML)
}

func writeOpenAPI(e cli, render func(*huma.OpenAPI) ([]byte, error)) error {
	b, err := render(api.New(api.Deps{}).API().OpenAPI())
	if err != nil {
		return fmt.Errorf("render OpenAPI: %w", err)
	}
	_, err = e.stdout.Write(b)
	return err
}

func cmdAsyncAPI(_ context.Context, e cli, _ []string) error {
	b, err := api.AsyncAPIYAML()
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(b)
	return err
}

func cmdVersion(_ context.Context, e cli, _ []string) error {
	fmt.Fprintln(e.stdout, version())
	return nil
}

// version describes this build from the Go toolchain's build information:
// module version, VCS revision (marked when built from a modified tree),
// Go version, and the API contract version.
func version() string {
	v, rev, goVersion := "(devel)", "", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		modified := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" && modified {
			rev += "+modified"
		}
	}
	out := "waypoint " + v
	if rev != "" {
		out += " (" + rev + ")"
	}
	out += ", API " + api.Version
	if goVersion != "" {
		out += ", " + goVersion
	}
	return out
}
