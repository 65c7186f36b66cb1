#!/usr/bin/env bash
# Compiles and runs every whole program that the pages in docs/ show, so that a page cannot quote code that no
# longer builds, or output that the code no longer prints.
#
#   scripts/docs-programs.sh BUILD_DIR [COMPILE [LIBS [EXAMPLES_DIR]]]
#
#   BUILD_DIR  where the extracted sources, the binaries and their output go (made if missing; the script's own
#              files in it are replaced on every run).
#   COMPILE    the compiler and its flags, one string split at spaces (no quoting), as the examples are compiled:
#              the Makefile's "$(CXX) $(CXXFLAGS) $(BLAS_CFLAGS)". Default: $DOCS_CXX, else
#              "${CXX:-g++} -std=c++20 -O1 -Wall -Wextra -fopenmp-simd -pthread -I.". Dependency-file flags (-MMD, -MD, -MP) are
#              dropped: these programs are not part of the build's dependency graph.
#   LIBS       what the examples link with, after the source: the Makefile's "$(LIB) $(LDLIBS)". Default: $DOCS_LIBS,
#              else "build/libattograd.a $(pkg-config --libs openblas) -pthread".
#   EXAMPLES_DIR  where the built examples are, for the pages that quote their output (see below): the Makefile's
#              $(BUILD)/examples. Default: $DOCS_EXAMPLES, else build/examples.
#   DOCS_TIMEOUT  seconds one program may run (default 300).
#
# Run it from the repository's top directory (paths in COMPILE and LIBS are read from there, as `make` does), after
# the library and the examples are built. For example:
#   make build/libattograd.a examples
#   scripts/docs-programs.sh build/docs "g++ -std=c++20 -O1 -fopenmp-simd -pthread -I." "build/libattograd.a $(pkg-config --libs openblas)"
#
# What counts as a program: a fenced ```cpp block of docs/*.md that contains `int main(`, or
# `#define CATCH_CONFIG_MAIN` (a Catch2 test, which brings its own main; needs the catch2 package). Program N of a
# page (counted from 1, top to bottom) is written to BUILD_DIR/<page>-<N>.cpp, e.g. build/docs/02-the-graph-1.cpp,
# and starts with a #line directive, so that a compiler error names the page and its line. Each is compiled,
# linked, and run from its own directory BUILD_DIR/<page>-<N>.run/, with no input; its output (stdout and stderr)
# is kept in BUILD_DIR/<page>-<N>.out.
#
# A page steers the check with HTML comments (invisible when the page is rendered), each on the line right above a
# fence:
#   <!-- docs-programs: output of program N -->   above a block of output: every line of it (but blank ones and
#                                                  `...`) must be a line of program N's output, trailing spaces
#                                                  ignored, in any order; so the page's quoted output cannot go stale.
#   <!-- docs-programs: exit=CODE file=NAME -->    above a program, both optional: it must exit with CODE (default 0;
#                                                  a Catch2 test that shows a failure exits 1), and its source is
#                                                  called NAME in messages (its #line), as the page calls it.
#   <!-- docs-programs: skip REASON -->            above a program: not compiled; REASON is printed.
#   <!-- docs-programs: output of example NAME ARGS... -->
#                                                  above a block of output: as above, for what EXAMPLES_DIR/NAME
#                                                  prints when run with ARGS (split at spaces) from an empty
#                                                  directory; it must exit with 0. For the pages that read the
#                                                  examples' output (make xbow, make graph, make gradcheck-report).
# A docs-programs comment that is not one of these, or not right above a fence, is an error.
#
# Exit status: 0 when every program compiled, ran with its expected exit status and printed its quoted output;
# every example quoted ran and printed it; 1 when one did not (each failure is named on stderr: the page, the line,
# and what went wrong); 2 on a usage error (no BUILD_DIR, no docs/ here, a malformed docs-programs comment).
set -uo pipefail

usage() {
    sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}
[ $# -ge 1 ] && [ $# -le 4 ] || usage
case "$1" in -h | --help) usage ;; esac
build_dir=$1
compile=${2:-${DOCS_CXX:-${CXX:-g++} -std=c++20 -O1 -Wall -Wextra -fopenmp-simd -pthread -I.}}
libs=${3:-${DOCS_LIBS:-build/libattograd.a $(pkg-config --libs openblas 2>/dev/null) -pthread}}
examples_dir=${4:-${DOCS_EXAMPLES:-build/examples}}
timeout_s=${DOCS_TIMEOUT:-300}

shopt -s nullglob
pages=(docs/*.md)
if [ ${#pages[@]} -eq 0 ]; then
    echo "docs-programs: no docs/*.md here; run from the repository's top directory" >&2
    exit 2
fi
read -ra compile_words <<<"$compile"
read -ra lib_words <<<"$libs"
compile_cmd=()
for w in "${compile_words[@]}"; do
    case "$w" in -MMD | -MD | -MP) ;; *) compile_cmd+=("$w") ;; esac
done
if [ ${#compile_cmd[@]} -eq 0 ]; then
    echo "docs-programs: COMPILE is empty" >&2
    exit 2
fi

mkdir -p "$build_dir" || exit 2
for page in "${pages[@]}"; do  # what an earlier run left: <page>-<N>, -<N>.cpp, .expected, .out, .run/
    rm -rf "$build_dir/$(basename "$page" .md)"-[0-9]* "$build_dir/$(basename "$page" .md)"-example-[0-9]*
done
manifest=$build_dir/programs.tsv examples=$build_dir/examples.tsv
: >"$manifest"
: >"$examples"

# Extraction. For each page, awk writes the programs' sources and expected lines, and one manifest line per
# program: page <TAB> N <TAB> line of its fence <TAB> exit code <TAB> skip reason; and one line per block of an
# example's output: page <TAB> K <TAB> line of its comment <TAB> the example's command line.
for page in "${pages[@]}"; do
    name=$(basename "$page" .md)
    awk -v page="$page" -v name="$name" -v dir="$build_dir" -v manifest="$manifest" -v examples="$examples" '
    function fail(msg) { printf "docs-programs: %s:%d: %s\n", page, NR, msg > "/dev/stderr"; bad = 1; exit 2 }
    function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
    BEGIN { infence = 0; marker = ""; marker_line = 0; programs = 0; nouts = 0; nexamples = 0 }
    infence {
        if ($0 ~ /^[ \t]*```[ \t]*$/) {
            infence = 0
            if (lang == "cpp" && (body ~ /int main\(/ || body ~ /#define CATCH_CONFIG_MAIN/)) {
                programs++
                exit_code = 0; file = page; skip = ""
                if (fmarker != "") {
                    m = fmarker
                    if (m ~ /^skip( |$)/) { skip = trim(substr(m, 5)); if (skip == "") skip = "(no reason given)" }
                    else {
                        n = split(m, kv, /[ \t]+/)
                        for (i = 1; i <= n; i++) {
                            if (kv[i] ~ /^exit=[0-9]+$/) exit_code = substr(kv[i], 6) + 0
                            else if (kv[i] ~ /^file=[^ \t"]+$/) file = substr(kv[i], 6)
                            else { NR = fmarker_line; fail("unknown docs-programs setting \"" kv[i] "\"") }
                        }
                    }
                } 
                src = dir "/" name "-" programs ".cpp"
                if (file == page) printf "#line %d \"%s\"\n", start + 1, page > src
                else printf "#line 1 \"%s\"\n", file > src
                printf "%s", body > src
                close(src)
                printf "%s\t%d\t%d\t%d\t%s\n", page, programs, start, exit_code, skip >> manifest
            } else if (fmarker ~ /^output of program [0-9]+$/) {
                split(fmarker, w, " ")
                out_for[++nouts] = w[4] + 0; out_line[nouts] = fmarker_line
                exp_file = dir "/" name "-" w[4] ".expected"
                printf "%s", expected >> exp_file
                close(exp_file)
            } else if (fmarker ~ /^output of example /) {
                nexamples++
                exp_file = dir "/" name "-example-" nexamples ".expected"
                printf "%s", expected > exp_file
                close(exp_file)
                printf "%s\t%d\t%d\t%s\n", page, nexamples, start, substr(fmarker, 19) >> examples
            } else if (fmarker != "") {
                NR = fmarker_line; fail("this docs-programs comment is not above a program or a block of output")
            }
            next
        }
        line = $0
        if (indent > 0 && substr(line, 1, indent) ~ /^ *$/) line = substr(line, indent + 1)
        body = body line "\n"
        t = line; sub(/[ \t]+$/, "", t)
        if (t != "" && trim(t) != "...") expected = expected NR "\t" t "\n"
        next
    }
    /^[ \t]*```/ {
        infence = 1; start = NR; body = ""; expected = ""
        match($0, /^[ \t]*/); indent = RLENGTH
        lang = trim(substr($0, indent + 4))
        fmarker = marker; fmarker_line = marker_line; marker = ""
        next
    }
    /^[ \t]*<!-- *docs-programs:/ {
        if (marker != "") { NR = marker_line; fail("this docs-programs comment is not right above a fence") }
        m = $0
        if (m !~ /^[ \t]*<!-- *docs-programs:.*--> *$/) fail("a docs-programs comment must be one line of its own")
        sub(/^[ \t]*<!-- *docs-programs: */, "", m); sub(/ *--> *$/, "", m)
        if (m !~ /^(output of program [0-9]+|output of example [a-z_]+( [^\t]*)?|skip( .*)?|((exit|file)=[^ ]+ *)+)$/)
            fail("unknown docs-programs comment \"" m "\"")
        marker = m; marker_line = NR
        next
    }
    { if (marker != "" && trim($0) != "") { NR = marker_line; fail("this docs-programs comment is not right above a fence") } }
    END {
        if (bad) exit 2
        if (infence) { NR = start; fail("this fence is never closed") }
        if (marker != "") { NR = marker_line; fail("this docs-programs comment is not right above a fence") }
        for (i = 1; i <= nouts; i++)
            if (out_for[i] < 1 || out_for[i] > programs) {
                NR = out_line[i]; fail("output of program " out_for[i] ": the page has " programs " program(s)")
            }
    }' "$page" || exit 2
done

# check_quoted OUT EXPECTED PAGE WHAT: every expected line (<md line> TAB <text>) is a line of OUT, trailing spaces
# ignored. Prints the missing ones and sets `missing` to how many; fails when any is.
check_quoted() {
    local out=$1 expected=$2 page=$3 what=$4 md_line text
    missing=0
    while IFS=$'\t' read -r md_line text; do
        if ! sed 's/[[:space:]]*$//' "$out" | grep -qxF -- "$text"; then
            [ "$missing" -eq 0 ] && echo "FAIL  $what: the page quotes output that is no longer printed:" >&2
            echo "  $page:$md_line: $text" >&2
            missing=$((missing + 1))
        fi
    done <"$expected"
    [ "$missing" -eq 0 ] || { echo "  (the whole output: $out)" >&2; return 1; }
}

# Compile, run and compare, one program at a time.
total=0
failed=()
while IFS=$'\t' read -r page n line want_exit skip <&3; do
    total=$((total + 1))
    name=$(basename "$page" .md)-$n
    what="$page, program $n (the block at line $line)"
    if [ -n "$skip" ]; then
        echo "skip  $what: $skip"
        continue
    fi
    src=$build_dir/$name.cpp bin=$build_dir/$name out=$build_dir/$name.out run=$build_dir/$name.run
    if ! "${compile_cmd[@]}" "$src" -o "$bin" "${lib_words[@]}" </dev/null >"$out" 2>&1; then
        cat "$out" >&2
        echo "FAIL  $what: does not compile (command: ${compile_cmd[*]} $src -o $bin ${lib_words[*]})" >&2
        failed+=("$what: does not compile")
        continue
    fi
    [ -s "$out" ] && cat "$out" >&2  # warnings
    mkdir -p "$run"
    bin_abs=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
    (cd "$run" && timeout "$timeout_s" "$bin_abs" </dev/null) >"$out" 2>&1
    status=$?
    if [ "$status" -ne "$want_exit" ]; then
        tail -n 20 "$out" >&2
        if [ "$status" -eq 124 ]; then reason="ran longer than ${timeout_s}s"
        else reason="exited with status $status, expected $want_exit"; fi
        echo "FAIL  $what: $reason (its output: $out)" >&2
        failed+=("$what: $reason")
        continue
    fi
    checked=""
    if [ -f "$build_dir/$name.expected" ]; then
        if ! check_quoted "$out" "$build_dir/$name.expected" "$page" "$what"; then
            failed+=("$what: $missing quoted line(s) of output not printed")
            continue
        fi
        checked=", quoted output checked"
    fi
    echo "ok    $what$checked"
done 3<"$manifest"

# The examples' output that pages quote: run each example as the page says, and compare.
while IFS=$'\t' read -r page k line command <&3; do
    total=$((total + 1))
    read -ra words <<<"$command"
    what="$page, the output of \`${command}\` (the block at line $line)"
    bin=$examples_dir/${words[0]} out=$build_dir/$(basename "$page" .md)-example-$k.out
    run=$build_dir/$(basename "$page" .md)-example-$k.run
    if [ ! -x "$bin" ]; then
        echo "FAIL  $what: $bin is not there; build the examples first (make examples)" >&2
        failed+=("$what: $bin is not built")
        continue
    fi
    mkdir -p "$run"
    bin_abs=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
    (cd "$run" && timeout "$timeout_s" "$bin_abs" "${words[@]:1}" </dev/null) >"$out" 2>&1
    status=$?
    if [ "$status" -ne 0 ]; then
        tail -n 20 "$out" >&2
        echo "FAIL  $what: exited with status $status (its output: $out)" >&2
        failed+=("$what: exited with status $status")
        continue
    fi
    if ! check_quoted "$out" "$build_dir/$(basename "$page" .md)-example-$k.expected" "$page" "$what"; then
        failed+=("$what: $missing quoted line(s) not printed")
        continue
    fi
    echo "ok    $what"
done 3<"$examples"

if [ ${#failed[@]} -gt 0 ]; then
    echo "docs-programs: ${#failed[@]} of $total check(s) failed:" >&2
    printf '  %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "docs-programs: all $total check(s) passed (programs compiled and ran, quoted output printed)"
