package main

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDockerfileBuildsStaticBinary runs the Dockerfile's go build step
// outside a container (no container engine runs in CI) and checks the
// binary is static: no program interpreter, no shared libraries. It also
// checks the final stage's promises: non-root user, /data volume, health
// check through the binary itself.
func TestDockerfileBuildsStaticBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	f, err := os.Open("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var build string
	var text strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		text.WriteString(line + "\n")
		if strings.HasPrefix(line, "RUN ") && strings.Contains(line, "go build") {
			build = strings.TrimPrefix(line, "RUN ")
		}
	}
	for _, want := range []string{"USER 65532", `VOLUME ["/data"]`, "HEALTHCHECK", `"healthcheck"`, "FROM scratch"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("Dockerfile lacks %s", want)
		}
	}
	if build == "" {
		t.Fatal("no RUN ... go build step in the Dockerfile")
	}
	m := regexp.MustCompile(`^CGO_ENABLED=0 go build (.*) -o /out/authbot (\./cmd/authbot)$`).FindStringSubmatch(build)
	if m == nil {
		t.Fatalf("build step changed shape, update this test: %s", build)
	}
	out := filepath.Join(t.TempDir(), "authbot")
	flags := strings.ReplaceAll(m[1], "${VERSION}", "test")
	// The same flags as the Dockerfile, split as the shell would; the
	// -ldflags value is the one quoted argument.
	var args []string
	if q := regexp.MustCompile(`-ldflags "([^"]*)"`); q.MatchString(flags) {
		args = append(args, "-ldflags", q.FindStringSubmatch(flags)[1])
		flags = q.ReplaceAllString(flags, "")
	}
	args = append(append([]string{"build"}, strings.Fields(flags)...), args...)
	args = append(args, "-o", out, "../../cmd/authbot")
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	e, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, p := range e.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("binary has a program interpreter: not static")
		}
	}
	if libs, _ := e.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("binary needs shared libraries %v", libs)
	}
	if v, err := exec.Command(out, "version").Output(); err != nil || !strings.Contains(string(v), "authbot test") {
		t.Errorf("built binary: %q %v", v, err)
	}
}
