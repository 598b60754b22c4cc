"""Rules for what an injected instruction asks a coding agent to *do*: leak secrets, run fetched
code, destroy data, rewrite shared history, or defeat the checks (pure data).

Rows are ``(code, weight, kind, needles, pattern, lang)``; ``rules.py`` compiles them. Shell
shapes are written to match their common variants (flags in any order, ``sudo``, other shells
and interpreters), because that is where evasion happens.
"""

from __future__ import annotations

SAY, CMD = "say", "cmd"

SECRET = (r"(?:api[ _-]?keys?|secret[ _-]?keys?|access[ _-]?keys?|private[ _-]?keys?|"
          r"(?:deploy|signing|encryption|master|root|gpg|pgp)[ _-]?keys?|session cookies|"
          r"ssh[ _-]?keys?|(?:auth|access|bearer|session|github|gitlab|npm|pypi|slack|oauth|"
          r"api|deploy|refresh|personal access)[ _-]?tokens?|secrets|passwords?|passphrases?|"
          r"credentials|creds|environment variables|env vars|\$env|printenv|os\.environ|"
          r"\.env\b(?![.\w])|id_rsa|id_ed25519|~?/?\.ssh\b|\.aws/credentials|aws credentials|"
          r"\.netrc|\.npmrc|\.pypirc|\.git-credentials|kubeconfig|cookies|gh/hosts\.yml|"
          r"\.docker/config\.json|\.kube/config|\.gnupg|\.pgpass|\.vault-token|"
          r"credentials\.json|service[-_]account\S*\.json|secrets?\.(?:ya?ml|json|toml|env)|"
          r"[A-Z][A-Z0-9]*_(?:API_KEY|TOKEN|SECRET|PASSWORD|ACCESS_KEY)\w*|(?:output|contents|"
          r"result) of [`'\"]?(?:env|printenv|export -p)\b[`'\"]?)")
DEST = (r"(?:https?://|ftp://|\b[\w-]+\.(?:com|net|org|io|site|xyz|ru|cn|top|tk|me|app|link|cc|"
        r"info|biz|online|invalid|example)\b|webhook|pastebin|gist|hastebin|requestbin|"
        r"pipedream|ngrok|telegram|an? (?:external|remote|outside) (?:server|host|endpoint|url)"
        r"|(?:the |an? )?(?:issue tracker|issue|ticket|pull request|public (?:repo|channel|gist)|"
        r"comment|chat|slack|discord|channel|wiki)\b"
        r"|my server|this (?:url|endpoint|address)|(?:your|the) (?:summary|results(?:\.json)?|"
        r"progress(?:\.md)?|commit message|pr description|handoff|next message|reply|response)"
        r"|[\w.-]+@[\w-]+\.\w+)")
SEND = (r"(?:send|post|upload|exfiltrate|leak|forward|transmit|e-?mail|mail|pipe|paste|ship|"
        r"deliver|submit|copy|write|append|include|embed|put|attach|dump|curl|beam|report|add)")
SHELL = r"(?:(?:ba|z|k|c|tc|da|fi|a)?sh|python[0-9.]*|perl|ruby|node|php|bun|deno|source|iex)"
FETCH = r"(?:curl|wget|fetch|aria2c|http|https)"
SEC_NEEDLES = ("key|token|secret|password|passphrase|credential|creds|env|printenv|.ssh|"
               "id_rsa|id_ed|.netrc|.npmrc|.pypirc|kubeconfig|cookie|prompt|api|hosts.yml|"
               ".docker|.kube|.gnupg|.pgpass|.vault|service")

ROWS: tuple[tuple[str, float, str, str, str, str], ...] = (
    # -- exfiltration ---------------------------------------------------------------------
    ("exfiltration", 0.85, SAY, SEC_NEEDLES,
     (rf"\b{SEND}\b[^.\n]{{0,60}}{SECRET}[^.\n]{{0,60}}\b(?:to|into|at|via|in|on|onto|with)\b"
     rf"[^.\n]{{0,30}}{DEST}"), "en"),
    ("exfiltration", 0.9, CMD, "curl|wget|http|requests.post|fetch|invoke-webrequest|iwr",
     (r"\b(?:curl|wget|http|requests\.post|fetch|invoke-webrequest|iwr)\b[^\n]{0,160}(?:\s(?:-d|"
     r"--data(?:-binary|-raw|-urlencode)?|-f|--form|-t|--upload-file|--post-data|--post-file|"
     r"-body|-infile)[\s=]*[\"']?[^\s\"']{0,40}?|\?\S{0,80}?=)(?:\$\{?[a-z_]*(?:key|token|secret|"
     r"pass|password|credentials)\w*\}?|\$\(\s*(?:env|printenv|cat [^)]*)\)|`(?:env|printenv)`|"
     r"@?~?/?\.ssh/|@\.env\b|/etc/passwd|/etc/shadow|\S*\.aws/credentials|\S*\.git-credentials|"
     r"\S*\.netrc|\(get-content)"), "en"),
    ("exfiltration", 0.8, CMD, "environ|process.env|$env|getenv|urlopen|requests|fetch|httpx",
     (r"(?:os\.environ|process\.env|\$env:|getenv\()[^\n]{0,160}(?:urlopen|requests\.(?:post|get|"
     r"put)|fetch\(|http\.client|httpx\.|\bcurl\b|\bwget\b|socket\.(?:socket|"
     r"create_connection))|(?:urlopen|requests\."
     r"(?:post|get|put)|fetch\(|httpx\.(?:post|get))[^\n]{0,160}(?:os\.environ|process\.env|"
     r"getenv\(|\.netrc|\.ssh/|id_rsa|id_ed25519|\.env\b|\.aws/credentials|\.git-credentials)"),
     "en"),
    ("exfiltration", 0.75, CMD, "scp|rsync|sftp",
     (r"\b(?:scp|rsync|sftp)\b[^\n]{0,80}(?:\.ssh/|id_rsa|id_ed25519|\.env\b|\.aws/|\.netrc|"
     r"credentials|kubeconfig|/etc/shadow)"), "en"),
    ("exfiltration", 0.8, SAY, SEC_NEEDLES,
     (rf"{SECRET}[^.\n]{{0,60}}\b(?:upload|send|post|exfiltrate|e-?mail|transmit|forward|put|"
     rf"paste|write|include|commit|attach|push|publish|share|expose|leak)\w*\s+(?:it|them|"
     rf"this|that|everything|those)?\s*"
     rf"(?:to|into|at|in)\s+[^.\n]{{0,20}}{DEST}"), "en"),
    ("exfiltration", 0.55, SAY, "attach|include|embed|bundle|zip|tar|with|including|containing",
     (rf"\b(?:attach|include|embed|bundle|zip|tar)\w*\s+(?:up\s+)?(?:the\s+|our\s+|your\s+|"
      rf"all\s+|a "
     rf"copy of\s+)?{SECRET}|\b(?:with|including|containing)\s+(?:the\s+|our\s+|your\s+)?"
     rf"{SECRET}\s+(?:attached|included|embedded|inside|bundled)"), "en"),
    ("exfiltration", 0.6, SAY, "copy|copies|contents|content|value",
     (rf"\b(?:a copy of|copies of|the contents? of|the values? of)\s+(?:the\s+|your\s+|all\s+)?"
     rf"{SECRET}[^\n]{{0,80}}\b(?:write|send|put|paste|include|post|upload|e-?mail|attach|"
     rf"commit)\b"), "en"),
    ("exfiltration", 0.9, CMD, "env|printenv|set|export|cat",
     (r"(?:^|[\s;&(`])(?:env|printenv|set|export -p|cat\s+\S*(?:\.env|credentials|id_rsa|"
     r"id_ed25519|\.netrc|\.npmrc|\.pypirc|\.git-credentials)\S*)\s*\|\s*(?:curl|wget|nc|ncat|"
     r"netcat|socat|ssh|base64|xxd|gzip|openssl)\b"), "en"),
    ("exfiltration", 0.85, CMD, ".ssh|.aws|.gnupg|.env|.kube|id_rsa|credentials|.netrc",
     (r"(?:\.ssh|\.aws|\.gnupg|\.env\b|\.kube|id_rsa|id_ed25519|credentials|\.netrc)[^\n|]{0,60}\|"
     r"\s*(?:curl|wget|nc|ncat|netcat|socat|ssh)\b"), "en"),
    ("exfiltration", 0.6, SAY, "upload|exfiltrate|leak|publish|e-mail|email|post",
     (rf"\b(?:upload|exfiltrate|leak|publish|e-?mail|post)\s+(?:the\s+|our\s+|your\s+|all\s+)?"
     rf"{SECRET}"), "en"),
    ("exfiltration", 0.45, CMD, "cat|print|type|more|less|head|tail",
     (r"\b(?:cat|type|more|less|head|tail)\s+\S*(?:\.env\b|id_rsa|id_ed25519|\.ssh/|credentials|"
     r"\.netrc|\.npmrc|\.pypirc|kubeconfig|secrets?\.)"), "en"),
    ("exfiltration", 0.4, SAY, "put|paste|include|write|add|post|append",
     (r"\b(?:put|paste|include|write|add|post|append)\s+(?:the\s+)?(?:output|result|contents?)\s+"
     r"(?:in|into|to)\s+(?:your|the)\s+(?:summary|results|handoff|progress|commit|pr|reply|"
     r"response|comment)"), "en"),
    ("exfiltration", 0.55, CMD, "cat",
     (r"\bcat\s+(?:\S*/)?(?:~/\.ssh/id_\w+|\.ssh/id_\w+|\.aws/credentials|\.git-credentials|"
     r"\.netrc|/etc/shadow)\b"), "en"),
    ("exfiltration", 0.55, SAY, SEC_NEEDLES,
     (rf"\b(?:print|echo(?!\s+[\"']?\$)|show|display|reveal|output|dump|disclose|recite|tell me|"
     rf"write out|type "
     rf"out|give me|share|expose)\b[^.\n]{{0,40}}\b(?:the (?:value|values|contents?) of\s+)?"
     rf"(?:your |all |every |the |each )?{SECRET}"), "en"),
    ("exfiltration", 0.75, SAY, "prompt|instructions|message",
     (r"\b(?:reveal|print|repeat|output|show|display|disclose|tell me|recite|leak|dump|paste|"
     r"copy|include|quote)\b[^.\n]{0,30}\b(?:your|the)\s+(?:full\s+|entire\s+|exact\s+|"
     r"complete\s+)?(?:system prompt|system message|initial prompt|original prompt|hidden "
     r"prompt|instructions you were given|prompt above|full prompt|developer message|"
     r"operator'?s? instructions)"), "en"),
    ("exfiltration", 0.45, CMD, ("webhook.site|requestbin|pipedream|ngrok|burpcollab|oast.|"
     "interact.sh|canarytoken|hookbin|beeceptor|requestcatcher|postb.in|interactsh"),
     (r"webhook\.site|requestbin|pipedream\.net|ngrok(?:-free)?\.(?:io|app|dev)|burpcollaborator|"
     r"\boast\.(?:fun|me|pro|live|site)|interact\.sh|interactsh|canarytokens|hookbin|beeceptor|"
     r"requestcatcher|postb\.in"), "en"),
    # -- remote code ------------------------------------------------------------------------
    ("remote_code", 0.85, CMD, "curl|wget|fetch|aria2c|http",
     rf"\b{FETCH}\b[^\n|]{{0,200}}\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:env\s+\S+\s+)?{SHELL}\b", "en"),
    ("remote_code", 0.85, CMD, "<(",
     (r"(?:\b(?:ba|z|k)?sh|\bpython[0-9.]*|\bperl|\bruby|\bnode|\bsource|(?:^|\s)\.)\s+<\(\s*"
     r"(?:curl|wget|fetch)\b"), "en"),
    ("remote_code", 0.85, CMD, "eval|exec|-c|-e",
     (r"\b(?:eval|exec|(?:ba|z|k)?sh\s+-c|python[0-9.]*\s+-c|perl\s+-e|ruby\s+-e|node\s+-e)\s*"
     r"[\"']?\s*(?:\$\(|`)\s*(?:curl|wget|fetch)\b"), "en"),
    ("remote_code", 0.85, CMD, ("iex|invoke-expression|downloadstring|iwr|irm|invoke-web|"
     "invoke-rest"),
     (r"\b(?:iex|invoke-expression)\b\s*\(?\s*\(?\s*(?:iwr|irm|invoke-webrequest|invoke-restmethod"
     r"|curl|wget|new-object\s+(?:system\.)?net\.webclient)\b|\b(?:iwr|irm|invoke-webrequest|"
     r"invoke-restmethod)\b[^\n|]{0,200}\|\s*(?:iex|invoke-expression)\b|downloadstring\s*\("),
     "en"),
    ("remote_code", 0.75, CMD, "powershell|pwsh",
     r"\b(?:powershell|pwsh)(?:\.exe)?\s+[^\n]{0,40}-(?:e|enc|"
     r"encodedcommand)\s+[A-Za-z0-9+/=]{20,}",
     "en"),
    ("remote_code", 0.75, CMD, "curl|wget",
     (r"\b(?:curl|wget)\b[^\n]{0,200}\s(?:-o|-O|--output|-P)\s*\S+[^\n]{0,80}(?:&&|;|\|\|)\s*"
     r"(?:sudo\s+)?(?:chmod\s+\S+\s+\S+\s*(?:&&|;)\s*)?(?:\./|/tmp/|sh\s|bash\s|python[0-9.]*\s|"
     r"source\s|\.\s)"), "en"),
    ("remote_code", 0.6, CMD, "curl|wget",
     (r"\b(?:curl|wget)\b[^\n]{0,200}(?:&&|;)\s*(?:sudo\s+)?(?:(?:ba|z)?sh|python[0-9.]*|perl|ruby|"
     r"node|source)\s+\S+"), "en"),
    ("remote_code", 0.8, CMD, "base64",
     (r"\bbase64\s+(?:-d|--decode|-D)\b[^\n|]{0,80}\|\s*(?:sudo\s+)?(?:(?:ba|z)?sh|python[0-9.]*|"
     r"perl)\b|\becho\s+[\"']?[A-Za-z0-9+/=]{20,}[\"']?\s*\|\s*base64\s+(?:-d|--decode)"), "en"),
    ("remote_code", 0.8, CMD, "exec|eval",
     (r"\b(?:exec|eval)\s*\(\s*(?:[\w.]*(?:urlopen|requests\.get|httpx\.get)|__import__\("
     r"['\"]urllib|__import__\(['\"]requests)|python[0-9.]*\s+-c\s+[\"'][^\"'\n]{0,200}(?:urlopen|"
     r"requests\.get)[^\"'\n]{0,200}(?:exec|eval)"), "en"),
    ("remote_code", 0.85, CMD, "/dev/tcp|nc |ncat|socat|mkfifo",
     (r"/dev/tcp/[\w.]+/\d+|\bn(?:c|cat)\s+[^\n|;&]{0,60}?-e\s+/bin/(?:ba)?sh|\bmkfifo\s+/tmp/\w+[^\n]{0,40}"
     r"\bnc\b|\bsocat\b[^\n]{0,60}\bexec:|\bbash\s+-i\s+>&"), "en"),
    ("remote_code", 0.7, CMD, "pipe",
     r"\bpipe\b[^\n]{0,80}\b(?:into|to|through)\s+(?:a\s+)?(?:(?:ba|z)?sh|shell|python|perl)\b",
     "en"),
    ("remote_code", 0.35, CMD, "install",
     (r"\b(?:pip3?|uv pip|npm|pnpm|yarn|gem)\s+install\s+[^\n]{0,40}https?://(?!github\.com|"
     r"pypi\.org|files\.pythonhosted|registry\.npmjs)\S+"), "en"),
    ("remote_code", 0.45, SAY, "script|payload|binary|installer|one-liner",
     (r"\b(?:run|execute|download and run|fetch and run|install)\b[^.\n]{0,40}\b(?:this|the "
     r"following|my|the attached)\s+(?:script|payload|binary|installer|one-liner)\b[^.\n]{0,40}"
     r"(?:https?://|from)"), "en"),
    # -- destructive --------------------------------------------------------------------------
    ("destructive", 0.8, CMD, "rm ",
     (r"\brm\s+(?:-{1,2}[\w-]+\s+)*?(?:-[a-z]*r[a-z]*|--recursive)\s+(?:-{1,2}[\w-]+\s+)*"
     r"(?:/|/\*|~|~/|~/\*|\$HOME/?|\$\{HOME\}/?|\$HOME/\*|\$\{HOME\}/\*|\"\$HOME\"/\*|\*|\.|"
     r"\./\*|\.\.|\.git|\.\*)"
     r"(?=$|[\s\"'`;&|)])"), "en"),
    ("destructive", 0.9, CMD, "no-preserve-root|:()",
     r"--no-preserve-root|:\(\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:", "en"),
    ("destructive", 0.8, CMD, "mkfs|dd |/dev/|shred|wipefs",
     (r"\bmkfs(?:\.\w+)?\s+/dev/|\bdd\s+[^\n]{0,80}\bof=/dev/(?:sd|hd|nvme|xvd|vd|disk|mmcblk)|"
     r">\s*/dev/(?:sd|nvme|hd)[a-z]|\bshred\s+[^\n]{0,40}/dev/|\bwipefs\s+-a"), "en"),
    ("destructive", 0.6, CMD, "chmod|chown|find|mv",
     (r"\bchmod\s+(?:-\w+\s+)*-R\s+0?777\s+/(?=\s|$)|\bchown\s+-R\s+\S+\s+/(?=\s|$)|"
     r"\bfind\s+(?:/|~|\$HOME)\s+[^\n]{0,80}(?:-delete|-exec\s+rm)|\bmv\s+(?:~|/|\$HOME)\s+"
     r"/dev/null"), "en"),
    ("destructive", 0.5, CMD, "kubectl|terraform|aws s3|gcloud",
     (r"\bkubectl\s+delete\s+(?:ns|namespace|all|--all|pods?\s+--all)|\bterraform\s+destroy\b"
     r"|\baws\s+s3\s+(?:rm|rb)\s+[^\n]{0,80}--(?:recursive|force)"), "en"),
    ("destructive", 0.45, CMD, "drop|truncate",
     r"\bdrop\s+(?:database|schema)\b|\bdrop\s+table\b(?!\s+if\s+exists)|\btruncate\s+table\b",
     "en"),
    ("destructive", 0.6, SAY, ("delete|remove|wipe|erase|destroy|nuke|purge|trash|drop|"
     "overwrite|rm "),
     (r"\b(?:delete|remove|wipe|erase|destroy|nuke|purge|trash|overwrite|rm|drop)\s+(?:all|every|"
     r"each(?! other)|the entire|the whole|everything in|all of the|all the|"
     r"any)\s+(?:of\s+)?(?:the\s+|"
     r"your\s+|this\s+)?[^.\n]{0,20}\b(?:files?|tests?|branch(?:es)?|backups?|worktrees?|"
     r"commits?|data|history|repositor(?:y|ies)|repos?|code|databases?|tables?|everything)\b"),
     "en"),
    ("destructive", 0.55, SAY, ("delete|remove|wipe|erase|destroy|nuke|purge|format|drop|"
     "truncate"),
     (r"\b(?:delete|remove|wipe|erase|destroy|nuke|purge|format|drop|truncate)\s+(?:the\s+|"
      r"your\s+|this\s+)?"
     r"(?:repo(?:sitory)?|codebase|home directory|home dir|disk|hard drive|production "
     r"database|prod db|\.git(?: directory| folder)?|git history|commit history|backups|"
     r"everything)\b"), "en"),
    # -- git force ------------------------------------------------------------------------------
    ("git_force", 0.45, CMD, "git push",
     # --force-with-lease alone is the safe way to update one's own branch: only towards a
     # shared branch (the row below) does it count
     r"\bgit\s+push\b(?![^\n;&|]*\bswarm/)[^\n;&|]{0,80}(?:\s--force(?!-with-lease)\b|"
     r"\s-f\b|\s\+[\w/]+)",
     "en"),
    ("git_force", 0.8, CMD, "git push",
     (r"\bgit\s+push\b[^\n;&|]{0,80}(?:(?:\s--force\b|\s-f\b|\s--force-with-lease\b)[^\n;&|]{0,40}"
     r"\b(?:main|master|trunk|release|prod|production)\b|\b(?:main|master|trunk)\b[^\n;&|]{0,40}"
     r"(?:\s--force\b|\s-f\b)|\s\+(?:main|master|trunk)\b)"), "en"),
    ("git_force", 0.6, SAY, "force",
     (r"\bforce[- ]?push\s+(?:it\s+|this\s+|everything\s+|the result\s+|your changes\s+)?(?:to|"
     r"onto|over)\s+(?:the\s+)?(?:main|master|trunk|target|release|production|origin|upstream|"
     r"shared)"), "en"),
    ("git_force", 0.35, CMD, "git reset",
     (r"\bgit\s+reset\s+--hard\s+(?:origin/|upstream/|HEAD~(?:[3-9]|\d{2,})|HEAD\^{3,}|"
     r"[0-9a-f]{7,40}\b)"), "en"),
    ("git_force", 0.7, CMD, "git push|git branch|update-ref|reflog",
     (r"\bgit\s+push\s+[^\n]{0,40}(?:--delete|-d)\s+(?:\S+\s+)?(?:refs/heads/)?(?:main|master|"
     r"trunk)\b|\bgit\s+push\s+\S+\s+:(?:main|master|trunk)\b|\bgit\s+branch\s+-D\s+(?:main|"
     r"master|trunk)\b|\bgit\s+update-ref\s+-d\s+refs/heads/(?:main|master)|\bgit\s+reflog\s+"
     r"expire\b[^\n]{0,40}--expire=now"), "en"),
    ("git_force", 0.5, SAY, "history",
     (r"\b(?:rewrite|erase|wipe|squash)\s+(?:the\s+)?(?:git\s+)?history\s+(?:of|on)\s+(?:main|"
     r"master|the target|trunk)"), "en"),
    # -- checks and CI --------------------------------------------------------------------------
    ("ci_tamper", 0.5, SAY, ("disable|skip|bypass|turn off|switch off|remove|delete|comment out|"
     "mute|silence|neuter|stub out|deactivate|circumvent|get rid of"),
     (r"\b(?:disable|skip|bypass|turn off|switch off|remove|delete|comment out|mute|silence|"
     r"neuter|stub out|deactivate|circumvent|get rid of)\s+(?:all\s+|every\s+|the\s+|any\s+|"
     r"those\s+|these\s+)*(?:failing\s+|flaky\s+|broken\s+|remaining\s+|existing\s+|other\s+|"
     r"red\s+)?(?:tests?|test suite|checks?|ci|ci checks|ci pipeline|linters?|linting|"
     r"type[- ]?check(?:s|ing|er)?|mypy|ruff|flake8|eslint|pre-commit(?: hooks?)?|git hooks|"
     r"hooks|verify(?: step| command)?|verification|assertions?|asserts|pytest(?: step| line)?|"
     r"(?:lint|test|check|verify|ci) (?:step|job|stage)|coverage(?: check| "
     r"threshold)?|branch protection|status checks|code review|the screen(?:ing)?|injection "
     r"(?:screen|filter|check))\b"), "en"),
    ("ci_tamper", 0.3, SAY, (".github|.gitlab|.circleci|jenkinsfile|azure-pipelines|.ci/|"
     ".pre-commit|tox.ini|noxfile|pytest.ini|setup.cfg|conftest|ci config|ci workflow|"
     "ci pipeline|verify command|verify script|check script|test script"),
     (r"\b(?:edit|modify|change|rewrite|patch|overwrite|replace|weaken|relax|delete|remove|empty|"
     r"truncate)\b[^.\n]{0,40}(?:\.github/workflows|\.gitlab-ci|\.circleci|jenkinsfile|"
     r"azure-pipelines|\.ci/run|\.pre-commit-config|tox\.ini|noxfile|pytest\.ini|setup\.cfg|"
     r"conftest\.py|the ci (?:config|configuration|workflow|pipeline|script)|the (?:verify|"
     r"verification|check|test) (?:command|script|step))"), "en"),
    ("ci_tamper", 0.6, SAY, (".github|.gitlab|.circleci|jenkinsfile|azure-pipelines|.ci/|"
     ".pre-commit|tox.ini|noxfile|pytest.ini|conftest|workflow|pipeline|verify"),
     (r"(?:\.github/workflows|\.gitlab-ci|\.circleci|jenkinsfile|azure-pipelines|\.ci/run|"
     r"\.pre-commit-config|tox\.ini|noxfile|pytest\.ini|conftest\.py|ci (?:config|workflow|"
     r"pipeline)|verify (?:command|script|step))[^.\n]{0,60}\b(?:so (?:that )?|to (?:make|keep) "
     r"|until )(?:ci|the build|the tests|tests|verify|it|checks|the checks|everything|the "
     r"pipeline)\s+(?:always\s+)?(?:stays?|is|are|goes|go|turns?|looks?|pass(?:es)?|succeeds?|"
     r"returns? (?:0|zero|true|success)|exits? (?:with )?(?:0|zero))\b(?:\s+green)?"), "en"),
    ("ci_tamper", 0.5, SAY, "drop",
     (r"\bdrop\s+(?:the\s+)?(?:pytest|test|tests|lint|check|checks|verify|ci)\s+(?:line|step|job|"
     r"stage|run)s?\b"), "en"),
    ("ci_tamper", 0.55, SAY, "skip|xfail|pytest",
     (r"\b(?:add|insert|put|use|sprinkle)\b[^.\n]{0,40}(?:pytest\.skip|pytest\.mark\.(?:skip|"
      r"xfail)|"
     r"unittest\.skip|@skip|\bskip\(\))[^.\n]{0,60}\b(?:each|every|all|failing|broken|red)\b"),
     "en"),
    ("ci_tamper", 0.6, SAY, ("always|unconditionally|regardless|no matter|even if|even when|"
     "whatever"),
     (r"\b(?:always|unconditionally)\s+(?:pass|passes|succeed|succeeds|exit\s+0|return\s+(?:0|"
     r"true)|report success|be green|go green)\b|\b(?:pass|succeed|exit 0|be green|report "
     r"(?:success|done|passed))\s+(?:regardless|no matter what|unconditionally|even if|even "
     r"when|whatever happens)\b"), "en"),
    ("ci_tamper", 0.6, SAY, "verify|verification|test|check|ci",
     (r"\b(?:replace|change|set|make|turn|rewrite|swap)\s+(?:the\s+)?\S*(?:verify|verification|"
     r"test|check|ci)\S*\s*(?:command|script|step|cmd)?\b[^.\n]{0,30}?\s(?:to|with|"
     r"into)\s+[`'\"]?(?:true|"
     r"exit 0|:|echo|/bin/true|pass)\b"), "en"),
    ("ci_tamper", 0.4, CMD, "true|exit 0|:",
     (r"\b(?:pytest|npm test|make test|cargo test|go test|tox|ruff|mypy|\.ci/run)\b[^\n]{0,60}"
     r"\|\|\s*(?:true|exit 0|:)(?=$|[\s;`\"'])"), "en"),
    ("ci_tamper", 0.65, SAY, "replace|overwrite|rewrite|swap|change",
     (r"\b(?:replace|overwrite|rewrite|swap|change)\s+(?:the\s+)?(?:body|contents?)\s+of\s+\S*"
     r"(?:verify|test|check|ci)\S*\s+with\s+[`'\"]?(?:exit 0|true|:|echo|pass)"), "en"),
    ("ci_tamper", 0.7, SAY, "disable|turn|switch|remove|bypass|skip|neuter|stub|deactivate",
     (r"\b(?:disable|turn off|switch off|remove|bypass|skip|neuter|stub out|"
      r"deactivate)\s+(?:the\s+)?"
     r"(?:injection\s+|prompt[- ]injection\s+)?(?:screen|screening|quarantine|safety checks|"
     r"injection filter|withheld notices?)\b"), "en"),
    ("ci_tamper", 0.45, SAY, "use|set|make",
     (r"\b(?:use|set|make)\s+(?:this|that|it)\s+(?:as\s+)?(?:the\s+)?(?:new\s+)?verify(?:\s+"
     r"command)?\b"), "en"),
    ("ci_tamper", 0.5, SAY, "no|need",
     (r"\bno\s+(?:checks|review|reviews|verification|tests|approval)\s+(?:needed|required|"
     r"necessary)\b|\byou\s+(?:no longer|don't|do not)\s+need\s+(?:the\s+|a\s+|to\s+)?"
     r"(?:merge queue|review|verification|checks|tests|approval|verify|run the tests)"), "en"),
    ("ci_tamper", 0.5, SAY, "mark|decorate|tag|annotate",
     (r"\b(?:mark|decorate|tag|annotate)\s+(?:all\s+|every\s+|the\s+)*(?:failing\s+|broken\s+|"
     r"remaining\s+)?(?:tests?|them|it|those|these)\s+(?:all\s+)?(?:as\s+|"
     r"with\s+)?(?:@?pytest\.mark\.)?(?:skip|skipped|xfail|"
     r"expected (?:to )?fail|passing|passed)"), "en"),
    ("ci_tamper", 0.45, CMD, "no-verify|skip_tests|cov-fail-under",
     r"--no-verify\b|\bSKIP_TESTS\s*=\s*(?:1|true)|--cov-fail-under[= ]0\b", "en"),
    ("ci_tamper", 0.5, SAY, "coverage|fail-under|fail_under|threshold",
     (r"\b(?:lower|reduce|drop|set)\s+(?:the\s+)?(?:coverage|fail[-_ ]under|threshold|required "
     r"coverage)\b[^.\n]{0,30}\bto\s+0\b"), "en"),
    ("ci_tamper", 0.6, SAY, "even if|regardless|whether or not|although|even though",
     (r"\b(?:tell|report|say|claim|write|state)\b[^\n]{0,40}\b(?:tests|checks|verify|"
     r"verification|ci|build|status)\b[^\n]{0,20}\b(?:pass(?:ed)?|succeeded|are green|were "
     r"green|done|ok)\b[^\n]{0,40}\b(?:even if|regardless|whether or not|although|even "
     r"though)"), "en"),
    ("ci_tamper", 0.6, SAY, "turn|convert|change|downgrade|make",
     (r"\b(?:turn|convert|change|downgrade|make)\s+(?:the\s+|all\s+)?(?:failing\s+)?(?:assertions?|"
     r"asserts|errors|failures|tests?)\s+(?:in)?to\s+(?:warnings|no-ops|noops|comments|skips|"
     r"passes)"), "en"),
)
