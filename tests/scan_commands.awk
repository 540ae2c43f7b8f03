# The external commands a shell script (or, with -v make=1, a Makefile's recipes and $(shell))
# runs, for tests/test_deps.sh. A small lexer, not a shell: it follows quotes, $(...), `...`,
# ${...}, $((...)), heredocs, arrays, case patterns and [[ ]], and prints one line per word
#   C <word>   in command position (after wrappers such as timeout, nice, env, sudo, srun)
#   A <word>   a bare argument of a function the file defines (check, quiet...: they run it)
# plus C <name> for every /usr/bin/<name>, /usr/sbin/<name>, /bin/<name> or /sbin/<name>.
# The caller drops builtins, keywords and the files' own functions.

{ text = text $0 "\n" }

END {
    if (make)
        text = make_to_shell(text)
    collect_functions(text)
    lex(text)
}

# Recipe lines (tab first, continuations joined) and every $(shell ...), as shell text.
function make_to_shell(t,    out, n, lines, i, line, p, q) {
    gsub(/\\\n/, " ", t)
    n = split(t, lines, "\n")
    for (i = 1; i <= n; i++) {
        line = lines[i]
        while ((p = index(line, "$(shell ")) > 0) {
            q = close_paren(line, p + 1)
            out = out make_refs(substr(line, p + 8, q - p - 8)) "\n"
            line = substr(line, 1, p - 1) "M" substr(line, q + 1)
        }
        if (substr(line, 1, 1) == "\t") {
            line = substr(line, 2)
            sub(/^([@+-]|\$\(Q\))*/, "", line)
            out = out make_refs(line) "\n"
        }
    }
    return out
}

# Index of the ")" closing the "(" at position p of s.
function close_paren(s, p,    d, c) {
    for (d = 0; p <= length(s); p++) {
        c = substr(s, p, 1)
        if (c == "(") d++
        else if (c == ")" && --d == 0) return p
    }
    return length(s) + 1
}

# Make's own references become inert words ($M); $$ becomes the shell's $.
function make_refs(s,    out, p, c, q) {
    # $$(call ...), $$(dir ...), $$(TABLE_x) in a define meant for $(eval): still make's
    while (match(s, /\$\$\((call|dir|wildcard|filter|foreach|if|patsubst|subst|word|notdir|[A-Z_]+[$)])/))
        s = substr(s, 1, RSTART - 1) substr(s, RSTART + 1)
    gsub(/\$\$/, "\001", s)
    gsub(/\$\(MAKE\)/, "make", s)
    gsub(/\$\(CC\)/, "cc", s)
    gsub(/\$\(FUZZ_CC\)/, "clang", s)
    while ((p = index(s, "$")) > 0) {
        c = substr(s, p + 1, 1)
        q = (c == "(" || c == "{") ? close_paren_any(s, p + 1) : p + 1
        out = out substr(s, 1, p - 1) "\002M"
        s = substr(s, q + 1)
    }
    s = out s
    gsub(/\002/, "$", s)   # a make reference: a word that is no command name
    gsub(/\001/, "$", s)
    return s
}

function close_paren_any(s, p,    d, c, o, e) {
    o = substr(s, p, 1)
    e = o == "(" ? ")" : "}"
    for (d = 0; p <= length(s); p++) {
        c = substr(s, p, 1)
        if (c == o) d++
        else if (c == e && --d == 0) return p
    }
    return length(s)
}

# Names defined as functions (name() or function name): their calls are no commands.
function collect_functions(t,    n, lines, i, l) {
    n = split(t, lines, "\n")
    for (i = 1; i <= n; i++) {
        l = lines[i]
        if (match(l, /^[ \t]*(function[ \t]+)?[A-Za-z_][A-Za-z0-9_-]*[ \t]*\(\)/)) {
            l = substr(l, RSTART, RLENGTH)
            sub(/^[ \t]*(function[ \t]+)?/, "", l)
            sub(/[ \t]*\(\)$/, "", l)
            func_names[l] = 1
        }
    }
}

# ---- the lexer. Context stack: what a ")" or "`" closes, and the state to return to.
function lex(t,    n, i, c, c2, st) {
    n = length(t)
    st = "N"; depth = 0; word = ""; bare = 1; cmdpos = 1; wrap = 0; fargs = 0
    redir = 0; casemode = 0; dbracket = 0; heredoc_n = 0
    for (i = 1; i <= n; i++) {
        c = substr(t, i, 1)
        c2 = substr(t, i, 2)
        if (st == "S") {                       # '...'
            if (c == "'") st = "N"
            continue
        }
        if (st == "D") {                       # "..."
            if (c == "\\") { i++; continue }
            if (c == "\"") { st = "N"; continue }
            if (c2 == "$(" && substr(t, i + 2, 1) != "(") {
                push("D"); i++; st = "N"; continue
            }
            if (c == "`") { push("`D"); st = "N"; continue }
            if (c2 == "$(" || c2 == "${") { i = skip_group(t, i + 1); continue }
            continue
        }
        # st == "N"
        if (c == "\\") {
            if (substr(t, i + 1, 1) == "\n") { end_word(); i++; continue }
            word = word substr(t, i + 1, 1); bare = 0; i++; continue
        }
        if (c == "'") { st = "S"; bare = 0; word = word "'"; continue }
        if (c2 == "$'") { i = skip_ansi(t, i + 2); bare = 0; word = word "$"; continue }
        if (c == "\"") { st = "D"; bare = 0; word = word "\""; continue }
        if (c == "#" && word == "") {
            while (i <= n && substr(t, i, 1) != "\n") i++
            i--
            continue
        }
        if (c == "$") {
            bare = 0
            word = word "$"
            if (c2 == "$(" && substr(t, i + 2, 1) != "(") { push("W"); i++; continue }
            if (c2 == "$(" || c2 == "${") { i = skip_group(t, i + 1); continue }
            continue
        }
        if (c == "`") {
            end_word()
            if (depth > 0 && stack[depth] ~ /^`/) st = pop()
            else { word = word "$"; push("`W") }
            continue
        }
        if (c == " " || c == "\t") { end_word(); continue }
        if (c == "\n") {
            end_word()
            if (heredoc_n) i = skip_heredocs(t, i)
            if (!dbracket) begin_command()
            continue
        }
        if (c2 == ";;") { end_word(); i++; casemode = 2; continue }
        if (c == ";" || c == "&" || c == "|") {
            end_word()
            if (substr(t, i + 1, 1) ~ /[&|]/) i++
            if (c == "&" && substr(t, i + 1, 1) == ">") { redir = 1; i++; continue }
            begin_command()
            continue
        }
        if (c == "<" || c == ">") {
            if (substr(t, i + 1, 1) == "(") {      # process substitution
                end_word(); push("W"); i++; continue
            }
            if (c2 == "<<" && substr(t, i + 2, 1) != "<") { end_word(); i = read_heredoc(t, i + 2); continue }
            end_word()
            while (substr(t, i + 1, 1) ~ /[<>&]/) i++
            redir = 1
            continue
        }
        if (c2 == "((" && word == "") { i = skip_group(t, i); end_word(); continue }
        if (c == "(") {
            if (word ~ /^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=/) {   # name=( array )
                i = skip_group(t, i); word = ""; bare = 1; continue
            }
            if (casemode == 2 && word == "") continue
            if (c2 == "()" && word ~ /^[A-Za-z_][A-Za-z0-9_-]*$/) {   # name() { body }
                word = ""; i++; begin_command(); continue
            }
            end_word(); push("N"); continue
        }
        if (c == ")") {
            end_word()
            if (casemode == 2) { casemode = 1; begin_command(); continue }
            if (depth > 0 && stack[depth] !~ /^`/) st = pop()
            continue
        }
        word = word c
    }
    end_word()
}

# Enter a command (substitution or subshell): the word around it and the command state wait on
# the stack. Leaving returns the state to go on in ("N" or "D"); the word resumes, not bare.
function push(s) {
    stack[++depth] = s
    saved_word[depth] = word; saved_cmdpos[depth] = cmdpos; saved_wrap[depth] = wrap
    saved_fargs[depth] = fargs; saved_db[depth] = dbracket
    word = ""; bare = 1; dbracket = 0
    begin_command()
}
function pop(    s) {
    end_word()
    s = stack[depth]
    word = saved_word[depth]; cmdpos = saved_cmdpos[depth]; wrap = saved_wrap[depth]
    fargs = saved_fargs[depth]; dbracket = saved_db[depth]
    depth--
    if (s ~ /W$/) { word = word "$"; bare = 0 }
    if (s == "N") cmdpos = 0
    sub(/^`/, "", s)
    return s == "D" ? "D" : "N"
}
function begin_command() { cmdpos = 1; wrap = 0; fargs = 0; redir = 0 }

# Skip a balanced (...) or {...} group starting at t[p] (quotes inside respected); returns the
# index of its closing character.
function skip_group(t, p,    o, e, d, c, q) {
    o = substr(t, p, 1)
    e = o == "(" ? ")" : "}"
    for (d = 0; p <= length(t); p++) {
        c = substr(t, p, 1)
        if (q != "") {
            if (c == "\\" && q == "\"") p++
            else if (c == q) q = ""
            continue
        }
        if (c == "\\") { p++; continue }
        if (c == "'" || c == "\"") { q = c; continue }
        if (c == o) d++
        else if (c == e && --d == 0) return p
    }
    return length(t)
}

function skip_ansi(t, p,    c) {
    for (; p <= length(t); p++) {
        c = substr(t, p, 1)
        if (c == "\\") p++
        else if (c == "'") return p
    }
    return p
}

# <<WORD, <<-WORD, <<'WORD', <<"WORD": remember the delimiter; the body starts after the line.
function read_heredoc(t, p,    d, c) {
    if (substr(t, p, 1) == "-") p++
    while (substr(t, p, 1) == " ") p++
    for (d = ""; p <= length(t); p++) {
        c = substr(t, p, 1)
        if (c ~ /[ \t\n;&|<>)]/) break
        if (c != "'" && c != "\"" && c != "\\") d = d c
    }
    heredoc[++heredoc_n] = d
    return p - 1
}

function skip_heredocs(t, p,    k, line, e) {
    for (k = 1; k <= heredoc_n; k++) {
        for (;;) {
            e = index(substr(t, p + 1), "\n")
            if (e == 0) { p = length(t); break }
            line = substr(t, p + 1, e - 1)
            p += e
            sub(/^\t+/, "", line)
            if (line == heredoc[k]) break
        }
    }
    heredoc_n = 0
    return p
}

function end_word(    w, b) {
    w = word; b = bare
    word = ""; bare = 1
    if (w == "") return
    if (match(w, /^(\/usr)?\/s?bin\/[A-Za-z0-9._+-]+$/) ||
        match(w, /=(\/usr)?\/s?bin\/[A-Za-z0-9._+-]+$/)) {
        sub(/.*\//, "", w)
        print "C " w
        cmdpos = 0
        return
    }
    if (redir) { redir = 0; return }
    if (dbracket) {                            # inside [[ ]]: only its end matters
        if (w == "]]") { dbracket = 0; cmdpos = 0 }
        return
    }
    if (casemode == 1 && w == "in") { casemode = 2; return }
    if (casemode == 2) {                       # a pattern of "case ... in" until its ")"
        if (w == "esac") { casemode = 0; cmdpos = 0 }
        return
    }
    if (!cmdpos) {
        if (fargs && b && w ~ /^[a-z][a-z0-9_.+-]*$/) print "A " w
        return
    }
    if (w ~ /^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=/) return   # assignment before a command
    if (wrap && (w ~ /^-/ || w ~ /^[0-9.]+[smhd]?$/)) return   # a wrapper's options
    if (w == "case") { casemode = 1; cmdpos = 0; return }
    if (w == "for" || w == "select") { cmdpos = 0; return }
    if (w == "[[") { dbracket = 1; cmdpos = 0; return }
    if (w ~ /^(if|then|else|elif|while|until|do|!|\{|time)$/) return
    if (w ~ /^(fi|done|esac|\})$/) { cmdpos = 0; return }
    cmdpos = 0
    if (!b && w ~ /^"?\$/) { fargs = 1; return }   # "${sudo[@]}" env ..., $(RUN) srun ...
    if (!b || w ~ /^-/ || w ~ /^[0-9]+$/ || index(w, "/")) return
    print "C " w
    if (w ~ /^(timeout|nice|env|sudo|exec|command|xargs|nohup|setsid|stdbuf|srun)$/) {
        cmdpos = 1; wrap = 1
    } else if (w in func_names) {
        fargs = 1
    }
}
