#!/usr/bin/env python3
"""The runbooks name AWS CLI and Terraform commands that exist (issue 21, check runbook-commands).

A runbook is read in a hurry, often during an incident; a command that AWS or Terraform refuses
(`aws ecs wait service-stable`, `--service-name` where the CLI wants `--service`) costs minutes
then. This reads every `aws ...` and `terraform ...` command of the runbooks, in fenced code
blocks (lines joined at a trailing backslash) and in inline code, also inside `$(...)`, and
checks it against the tools' own descriptions, never against a list kept here:

- `aws [global options] SERVICE OPERATION --param ...`: SERVICE is a service of botocore's
  models (the CLI's names: configservice for config, s3api for s3), OPERATION the kebab-case
  name of one of its operations, every `--param` the kebab-case name of a member of the
  operation's input (`--no-param` for a boolean), a pagination option of a paginated operation
  or a global option, and every required member is given (unless the command elides arguments
  with `...` or takes `--cli-input-json`);
- `aws SERVICE wait WAITER ...`: WAITER is one of the service's waiters, with the parameters of
  the waiter's operation;
- the CLI's own commands (not in botocore: `aws s3 cp`, `aws logs tail`, `aws sso login`, ...)
  from the short list CUSTOM_COMMANDS below, with their options;
- `terraform [-chdir=DIR] COMMAND [SUBCOMMAND] -flag ...`: COMMAND is one `terraform -help`
  lists, SUBCOMMAND one `terraform COMMAND -help` lists (state, workspace, providers), every
  flag one its `-help` names (apply and destroy also take plan's).

Errors name file:line. Files: deploy/README.md, every other .md under deploy/, docs/runbooks/.

    check_runbook_commands.py [--root REPO] [--terraform BIN]
"""

import argparse
import os
import re
import shlex
import subprocess
import sys

import botocore.session
from botocore import xform_name

# The CLI's names of services whose botocore name differs.
CLI_SERVICE_NAMES = {"configservice": "config", "s3api": "s3", "deploy": "codedeploy"}

# Options every aws command takes (`aws help`, AWS CLI v2).
GLOBAL_OPTIONS = {
    "--debug", "--endpoint-url", "--no-verify-ssl", "--no-paginate", "--output", "--query",
    "--profile", "--region", "--version", "--color", "--no-sign-request", "--ca-bundle",
    "--cli-read-timeout", "--cli-connect-timeout", "--cli-binary-format", "--no-cli-pager",
    "--cli-auto-prompt", "--no-cli-auto-prompt", "--cli-input-json", "--cli-input-yaml",
    "--generate-cli-skeleton",
}
GLOBAL_WITH_VALUE = {"--endpoint-url", "--output", "--query", "--profile", "--region", "--color",
                     "--ca-bundle", "--cli-read-timeout", "--cli-connect-timeout",
                     "--cli-binary-format"}
# A paginated operation's extra options (the CLI pages on its own).
PAGINATION_OPTIONS = {"--max-items", "--starting-token", "--page-size"}

# The CLI's own commands, which botocore does not describe: (service, command) -> options.
_S3_TRANSFER = {
    "--acl", "--cache-control", "--checksum-algorithm", "--content-disposition",
    "--content-encoding", "--content-language", "--content-type", "--dryrun", "--exclude",
    "--expected-size", "--expires", "--follow-symlinks", "--no-follow-symlinks", "--grants",
    "--include", "--metadata", "--metadata-directive", "--no-guess-mime-type", "--no-progress",
    "--only-show-errors", "--quiet", "--recursive", "--request-payer", "--source-region",
    "--sse", "--sse-c", "--sse-c-key", "--sse-kms-key-id", "--storage-class",
    "--website-redirect", "--page-size",
}
CUSTOM_COMMANDS = {
    ("s3", "cp"): _S3_TRANSFER,
    ("s3", "mv"): _S3_TRANSFER,
    ("s3", "sync"): _S3_TRANSFER | {"--delete", "--exact-timestamps", "--size-only"},
    ("s3", "rm"): {"--dryrun", "--exclude", "--include", "--only-show-errors", "--quiet",
                   "--recursive", "--request-payer", "--page-size"},
    ("s3", "ls"): {"--human-readable", "--page-size", "--recursive", "--request-payer",
                   "--summarize"},
    ("s3", "mb"): set(),
    ("s3", "rb"): {"--force"},
    ("s3", "presign"): {"--expires-in"},
    ("logs", "tail"): {"--since", "--follow", "--format", "--filter-pattern",
                       "--log-stream-names", "--log-stream-name-prefix"},
    ("sso", "login"): {"--sso-session", "--no-browser", "--use-device-code"},
    ("sso", "logout"): set(),
    ("ecr", "get-login-password"): set(),
    ("rds", "generate-db-auth-token"): {"--hostname", "--port", "--username"},
    ("configure", None): None,  # any subcommand, any option
}

FENCE = re.compile(r"^\s*```\s*([a-z]*)")
SHELL_FENCES = {"", "sh", "bash", "shell", "console", "text"}
# A command word, and what may stand before it for it to start a command: the line's start
# (after a `$ ` prompt and VAR=value assignments), an operator, `$(`, a backquote, or a shell
# keyword (`for ...; do aws ...`). Prose in a block ("(terraform test, mock_provider)") is not.
COMMAND_WORD = re.compile(r"(?<![\w./\"'-])(aws|terraform)(?=\s)")
COMMAND_PREFIX = re.compile(
    r"(?:^\s*(?:\$\s+)?(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*"
    r"|[;|&`]\s*|\$\(\s*|\b(?:do|then|else|time|sudo|exec|xargs)\s+)$")
HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_]\w*)\1")
PLACEHOLDER = re.compile(r"<[^<>\n]*>")


def md_files(root):
    files = []
    for top in ("deploy", os.path.join("docs", "runbooks")):
        for d, dirs, fs in os.walk(os.path.join(root, top)):
            dirs[:] = [x for x in dirs if not x.startswith(".")]
            files += [os.path.join(d, f) for f in fs if f.endswith(".md")]
    return sorted(files)


def snippets(text):
    """(line number, shell text, fenced) of every fenced shell line (continuations joined, here
    documents left out) and every inline code span (which may wrap across lines)."""
    lines = text.split("\n")
    fenced, lang, i = False, "", 0
    prose = []
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m:
            fenced, lang = (not fenced), m.group(1)
            prose.append("")
            i += 1
            continue
        if not fenced:
            prose.append(lines[i])
            i += 1
            continue
        prose.append("")
        start, cmd = i + 1, lines[i]
        while cmd.rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            prose.append("")
            cmd = cmd.rstrip()[:-1] + " " + lines[i].strip()
        if lang in SHELL_FENCES:
            yield start, cmd, True
        i += 1
        # A here document's lines are data (HCL, JSON), not commands: skipped to its delimiter.
        m = HEREDOC.search(cmd.replace("<<<", "   "))
        if m:
            while i < len(lines) and lines[i].strip() != m.group(2):
                prose.append("")
                i += 1
    # Inline code: backquoted spans of the prose (fences blanked, line numbers kept).
    body = "\n".join(prose)
    for m in re.finditer(r"`([^`]+)`", body):
        yield body.count("\n", 0, m.start()) + 1, m.group(1).replace("\n", " "), False


def strip_comment(cmd):
    """The command without a trailing shell comment (an unquoted `#` after a blank)."""
    quote = None
    for i, ch in enumerate(cmd):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or cmd[i - 1].isspace()):
            return cmd[:i]
    return cmd


def command_at(cmd, start):
    """The text of the simple command starting at `start`: up to an unquoted operator, a
    redirection or the `)` that closes the `$(` it sits in."""
    quote, depth, i = None, 0, start
    while i < len(cmd):
        ch = cmd[i]
        if quote:
            if ch == quote:
                quote = None
            elif quote == '"' and cmd.startswith("$(", i):
                depth += 1
                i += 1
        elif ch in "'\"":
            quote = ch
        elif cmd.startswith("$(", i):
            depth += 1
            i += 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and ch in "|;&<>`":
            break
        i += 1
    return cmd[start:i]


def commands(root):
    """(file:line, tool, tokens, fenced) of every aws and terraform command in the runbooks."""
    seen = set()
    for path in md_files(root):
        rel = os.path.relpath(path, root)
        with open(path) as f:
            text = f.read()
        for line, snippet, fenced in snippets(text):
            snippet = strip_comment(PLACEHOLDER.sub("PLACEHOLDER", snippet))
            for m in COMMAND_WORD.finditer(snippet):
                if not COMMAND_PREFIX.search(snippet[:m.start()]):
                    continue
                try:
                    tokens = shlex.split(command_at(snippet, m.start()))
                except ValueError:
                    continue  # unbalanced quotes: prose, not a command
                key = (rel, line, tuple(tokens))
                if key not in seen:
                    seen.add(key)
                    yield f"{rel}:{line}", m.group(1), tokens, fenced


# ---------------------------------------------------------------------------------------------
# aws

class AwsModels:
    def __init__(self):
        self.session = botocore.session.get_session()
        self.services = set(self.session.get_available_services())
        self._models = {}

    def model(self, service):
        if service not in self._models:
            self._models[service] = self.session.get_service_model(service)
        return self._models[service]

    def operations(self, service):
        return {xform_name(op, "-"): op for op in self.model(service).operation_names}

    def waiters(self, service):
        try:
            waiters = self.session.get_waiter_model(service)
        except Exception:  # a service without waiters
            return {}
        return {xform_name(w, "-"): waiters.get_waiter(w).operation for w in waiters.waiter_names}

    def paginated(self, service, operation):
        try:
            return self.session.get_paginator_model(service).get_paginator(operation) is not None
        except Exception:  # no paginators, or not this operation
            return False


def option_names(tokens):
    """The --options of a command's arguments (`--name=value` counted as --name)."""
    return [t.split("=", 1)[0] for t in tokens if t.startswith("--")]


def check_aws(models, where, tokens, fenced, errors):
    args = tokens[1:]
    # Global options may come before the service.
    while args and args[0].startswith("--"):
        opt = args.pop(0).split("=", 1)[0]
        if opt not in GLOBAL_OPTIONS:
            errors.append(f"{where}: aws {opt}: not a global option of the AWS CLI")
            return
        if opt in GLOBAL_WITH_VALUE and "=" not in opt and args:
            args.pop(0)
    if len(args) < 2:
        return  # `aws SERVICE` alone is prose about the service, not a command
    cli_service, command, rest = args[0], args[1], args[2:]
    shown = f"aws {cli_service} {command}"
    options = option_names(rest)
    custom = CUSTOM_COMMANDS.get((cli_service, command), CUSTOM_COMMANDS.get((cli_service, None), ...))
    if custom is None:
        return
    if custom is not ...:
        for opt in options:
            if opt not in custom and opt not in GLOBAL_OPTIONS:
                errors.append(f"{where}: {shown}: no option {opt} (the CLI's own command; "
                              "CUSTOM_COMMANDS of deploy/check_runbook_commands.py)")
        return
    if cli_service == "s3":
        errors.append(f"{where}: {shown}: `aws s3` has no command {command} (its commands: "
                      f"{', '.join(sorted(c for s, c in CUSTOM_COMMANDS if s == 's3'))}; the API "
                      "is `aws s3api`)")
        return
    service = CLI_SERVICE_NAMES.get(cli_service, cli_service)
    # The botocore name of a service the CLI renames (config, codedeploy) is no CLI command.
    if service not in models.services or cli_service in set(CLI_SERVICE_NAMES.values()) - {"s3"}:
        errors.append(f"{where}: aws {cli_service}: no such service in the AWS CLI (botocore "
                      "models; the CLI's names: " + ", ".join(f"{c} for {b}" for c, b in CLI_SERVICE_NAMES.items()) + ")")
        return
    if command == "wait":
        if not rest:
            errors.append(f"{where}: {shown}: no waiter named")
            return
        waiter, rest = rest[0], rest[1:]
        operation = models.waiters(service).get(waiter)
        shown = f"aws {cli_service} wait {waiter}"
        if operation is None:
            errors.append(f"{where}: {shown}: no such waiter (the service's: "
                          f"{', '.join(sorted(models.waiters(service))) or 'none'})")
            return
        options = option_names(rest)
    else:
        operation = models.operations(service).get(command)
        if operation is None:
            close = sorted(o for o in models.operations(service) if o.split("-")[-1] == command.split("-")[-1])[:6]
            errors.append(f"{where}: {shown}: no such operation of {service}"
                          + (f" (similar: {', '.join(close)})" if close else ""))
            return
    shape = models.model(service).operation_model(operation).input_shape
    members = shape.members if shape is not None else {}
    allowed = set(GLOBAL_OPTIONS)
    for name, member in members.items():
        allowed.add("--" + xform_name(name, "-"))
        if member.type_name == "boolean":
            allowed.add("--no-" + xform_name(name, "-"))
    if models.paginated(service, operation):
        allowed |= PAGINATION_OPTIONS
    for opt in options:
        if opt not in allowed:
            errors.append(f"{where}: {shown}: no parameter {opt} (its parameters: "
                          f"{', '.join(sorted('--' + xform_name(n, '-') for n in members))})")
    # Required parameters: only of whole commands (code blocks), not of a command named in a
    # sentence, nor where arguments are elided on purpose.
    if not fenced or "..." in rest or "--cli-input-json" in options or "--cli-input-yaml" in options:
        return
    required = shape.required_members if shape is not None else []
    for name in required:
        if "--" + xform_name(name, "-") not in options:
            errors.append(f"{where}: {shown}: required parameter --{xform_name(name, '-')} missing")


# ---------------------------------------------------------------------------------------------
# terraform

class TerraformHelp:
    """Commands, subcommands and flags as the terraform binary's own -help lists them."""

    def __init__(self, binary):
        self.binary = binary
        self._help = {}

    def help(self, *words):
        if words not in self._help:
            out = subprocess.run([self.binary, *words, "-help"], capture_output=True, text=True,
                                 timeout=60, env={**os.environ, "CHECKPOINT_DISABLE": "1"})
            self._help[words] = out.stdout + out.stderr
        return self._help[words]

    def commands(self, *words):
        """Subcommands listed by `terraform WORDS -help` (two-space indented name, text)."""
        names = set()
        in_list = False
        for line in self.help(*words).splitlines():
            if re.match(r"^(Main commands|All other commands|Subcommands):", line):
                in_list = True
                continue
            m = re.match(r"^  ([a-z][a-z0-9-]*)\s{2,}\S", line)
            if in_list and m:
                names.add(m.group(1))
            elif in_list and line and not line.startswith(" "):
                in_list = line.startswith(("Main", "All other", "Subcommands"))
        return names

    def flags(self, *words):
        flags = set(re.findall(r"^\s+(-[a-z][a-z0-9-]*)", self.help(*words), re.M))
        if words and words[0] in ("apply", "destroy"):
            flags |= self.flags("plan")  # "also accepts the plan-customization options"
        return flags


def check_terraform(tf, where, tokens, errors):
    args = tokens[1:]
    while args and args[0].startswith("-"):
        opt = args.pop(0).split("=", 1)[0]
        if opt not in ("-chdir", "-help", "-version", "-v", "--help", "--version"):
            errors.append(f"{where}: terraform {opt}: not a global option (terraform -help)")
            return
    if not args:
        return
    top = tf.commands()
    if not top:
        errors.append(f"`{tf.binary} -help` lists no commands: cannot check")
        return
    words = [args.pop(0)]
    if words[0] not in top:
        errors.append(f"{where}: terraform {words[0]}: no such command (terraform -help)")
        return
    subs = tf.commands(words[0])
    if subs and args and not args[0].startswith("-"):
        if args[0] not in subs:
            errors.append(f"{where}: terraform {words[0]} {args[0]}: no such subcommand "
                          f"(terraform {words[0]} -help: {', '.join(sorted(subs))})")
            return
        words.append(args.pop(0))
    flags = tf.flags(*words)
    for t in args:
        if t.startswith("-") and t != "-":
            flag = t.split("=", 1)[0]
            if flag not in flags:
                errors.append(f"{where}: terraform {' '.join(words)} {flag}: no such option "
                              f"(terraform {' '.join(words)} -help)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--terraform", default="terraform")
    args = ap.parse_args()
    models, tf = AwsModels(), TerraformHelp(args.terraform)
    errors = []
    counts = {"aws": 0, "terraform": 0}
    for where, tool, tokens, fenced in commands(args.root):
        counts[tool] += 1
        if tool == "aws":
            check_aws(models, where, tokens, fenced, errors)
        else:
            check_terraform(tf, where, tokens, errors)
    for e in errors:
        print("FAIL", e)
    print(f"runbook-commands: {counts['aws']} aws and {counts['terraform']} terraform commands in "
          f"{len(md_files(args.root))} files (botocore {botocore.__version__}); {len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
