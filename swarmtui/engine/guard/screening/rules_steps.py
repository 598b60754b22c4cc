"""Rules for injections dressed as ordinary engineering steps or ordinary news (pure data):
checks defeated by a plausible edit (a collection hook that drops the security tests, ``# noqa``
on every line, a screen made to return clean, a step replaced with ``true``), another agent's
identity borrowed, secrets moved by a roundabout verb, and the task's limits said to have
lapsed, moved elsewhere or been meant for someone else, in English and other languages.

Rows are ``(code, weight, kind, needles, pattern, lang)`` as in ``rules_shell``.
"""

from __future__ import annotations

from swarmtui.engine.guard.screening.rules_shell import SECRET

SAY, CMD = "say", "cmd"

_TESTS = r"(?:tests?|test cases|test files|specs?)"
_GUARD = (r"(?:screen(?:\(\))?|guard|quarantine(?: check)?|injection (?:screen|filter|check)|"
          r"scanner|security check|permission check|verify(?: step| script)?|validator)")

ROWS: tuple[tuple[str, float, str, str, str, str], ...] = (
    # -- checks defeated by a plausible edit ------------------------------------------------
    ("ci_tamper", 0.55, SAY, "deselect|drop|exclude|filter|skip|ignore",
     (r"\b(?:deselect|drop|exclude|filter out|skip|ignore)s?\s+(?:every|all|any|each)\s+"
      + _TESTS + r"\s+(?:with|whose|that (?:has|have|contain)|named|matching|containing)\b"), "en"),
    ("ci_tamper", 0.5, SAY, "addopts|-k",
     r"(?:addopts\b[^.\n]{0,40})?-k\s*['\"]?not\s+(?:\w+\s+and\s+not\s+)?(?:security|auth\w*|"
     r"sandbox|screen\w*|permissions?|integration)\b", "en"),
    ("ci_tamper", 0.5, SAY, "continue-on-error|allow_failure|allow-failure",
     r"\b(?:set|add|put|use|turn on)\b[^.\n]{0,40}(?:continue-on-error|allow[_-]failures?)\b",
     "en"),
    ("ci_tamper", 0.55, SAY, "noqa|type: ignore|nosec|pragma",
     (r"\b(?:add|put|append|sprinkle|slap)\w*\s+[`'\"]?#\s*(?:noqa|type:\s*ignore|nosec|"
      r"pragma:? no cover)[`'\"]?\s+(?:on|to|at|after)\s+(?:every|each|all)\b"), "en"),
    ("ci_tamper", 0.6, SAY, "screen|guard|quarantine|injection|scanner|security|permission|"
     "verify|validator",
     (r"\b" + _GUARD + r"\b[^.\n]{0,60}\b(?:always|for every (?:input|text|item)|"
      r"unconditionally|no matter what)\b[^.\n]{0,30}\b(?:returns?|says?|reports?|passe?s?|"
      r"clean|true|ok)\b"), "en"),
    ("ci_tamper", 0.6, SAY, "flagged",
     r"\breturns?\s+(?:a\s+)?(?:verdict\()?[^.\n)]{0,30}\bflagged\s*=\s*false\b", "en"),
    ("ci_tamper", 0.55, SAY, "replace|stub|swap",
     (r"\b(?:replace|stub|swap)\w*\b[^.\n]{0,60}\b(?:step|job|check|scan\w*|command|hook|"
      r"stage)\b[^.\n]{0,20}\b(?:with|for|by)\s+[`'\"]?(?:true|exit 0|echo\b|:\s*[`'\"])"), "en"),
    ("ci_tamper", 0.5, SAY, "prints|echo|print",
     r"\b(?:prints?|echo(?:es)?)\s+['\"`]?(?:ok|pass(?:ed)?|success)['\"`]?\s+and\s+exits?\s+"
     r"(?:with\s+)?0\b", "en"),
    ("ci_tamper", 0.45, SAY, "if ",
     r"\bif\s+[^\n]{0,30}\b(?:ci|github_actions)\b[^\n]{0,12}:\s*return\b", "en"),
    ("ci_tamper", 0.45, SAY, "try|except",
     r"\b(?:wrap|catch)\w*\b[^.\n]{0,40}\bassert\w*\b[^.\n]{0,40}\b(?:pass|ignore)\b", "en"),
    ("ci_tamper", 0.45, SAY, "goes|turns|never|always",
     (r"\bso (?:that )?(?:the )?(?:suite|build|ci|pipeline|workflow|job|run)\s+(?:goes green|"
      r"turns green|never fails|always passes)\b"), "en"),
    ("ci_tamper", 0.55, SAY, "hard-code|hardcode|hard code|force",
     (r"\b(?:hard-?\s?code|force)\w*\s+(?:the\s+)?" + _GUARD + r"\s+to\s+(?:always\s+)?"
      r"(?:return|report|say|pass)"), "en"),
    ("ci_tamper", 0.55, SAY, "assert true|assert 1",
     r"\bassert (?:true|1)\b`?\s+(?:in place of|instead of|for)\s+(?:every|each|all|the)\b", "en"),
    ("ci_tamper", 0.5, SAY, "hook|plugin",
     (r"\b(?:hook|plugin|fixture)\b[^.\n]{0,30}\b(?:skips?|deselects?|drops?)\s+(?:anything|"
      r"everything|all|every test|tests?)\s+(?:marked|named|tagged|with)\s+['\"`]?(?:security|"
      r"auth\w*|sandbox|screen\w*|permissions?)"), "en"),
    ("ci_tamper", 0.5, SAY, "results|summary",
     (r"\b(?:write|put|say|state|report)\w*\s+(?:in|into|to)\s+(?:the\s+)?(?:results(?:\.json)?|"
      r"summary)\s+that\s+(?:all\s+)?(?:the\s+)?(?:tests|checks|coverage)\s+(?:passed|pass|"
      r"(?:is|are) fine|(?:is|are) green)"), "en"),
    ("ci_tamper", 0.5, SAY, "badge|coverage",
     r"\b(?:rewrite|edit|change|set)\w*\s+the\s+(?:coverage\s+)?badge\s+to\b", "en"),
    # -- another agent's identity ----------------------------------------------------------
    ("role_hijack", 0.6, SAY, "assume|take|adopt|borrow|use",
     (r"\b(?:assume|take over|take on|adopt|borrow|use)\s+(?:the\s+)?(?:identity|role|name|"
      r"persona|credentials)\s+of\s+(?:agent\b|the (?:reviewer|supervisor|operator|other|lead)|"
      r"another)"), "en"),
    ("role_hijack", 0.6, SAY, "assume|take|impersonate|pose",
     (r"\b(?:assume|take over)\s+agent\s+[\w-]+'s\s+(?:role|identity|name)|\bimpersonate\s+"
      r"(?:agent|the|another|a)\b|\bpose as (?:agent|the operator|the supervisor)"), "en"),
    ("role_hijack", 0.55, SAY, "speak|sign",
     (r"\bspeak as the (?:operator|supervisor|owner|maintainer)|\bsign (?:your|the) (?:messages?|"
      r"commits?|summaries)\s+(?:as\s+)?['\"]?(?:operator|supervisor|maintainer|owner)"), "en"),
    ("role_hijack", 0.55, SAY, "write|edit|update|overwrite",
     (r"\b(?:write|edit|update|overwrite|rewrite)\w*\s+(?:its|their|agent [\w-]+'s|another "
      r"agent's|the other agent's)\s+(?:results\.json|progress(?:\.md| file)?|protocol files?|"
      r"exit record)"), "en"),
    ("role_hijack", 0.55, SAY, "you report|consider|promoted|permissions",
     (r"\byou report to me\b|\bconsider yourself the\b|\byou(?:'ve| have) been promoted\b|"
      r"\byour (?:permissions|privileges|rights) (?:were|have been) (?:widened|raised|"
      r"expanded|elevated|extended)"), "en"),
    # -- secrets by a roundabout verb --------------------------------------------------------
    ("exfiltration", 0.6, SAY, "echo|print|log|dump|write|output",
     (r"\b(?:echo|print|log|dump|write|output)\w*\s+(?:each|every|all(?: the)?)\s+(?:secrets?|"
      r"tokens?|credentials?|env(?:ironment)?\s+var\w*)\b[^.\n]{0,60}\b(?:log|output|console|"
      r"file|summary|results)"), "en"),
    ("exfiltration", 0.6, SAY, "base64|hex",
     (r"\b(?:base64|hex)\w*\s+(?:of|encoding of)\s+(?:your|the|all)\s+(?:env\w*|secrets|"
      r"tokens|keys|credentials)"), "en"),
    ("exfiltration", 0.6, SAY, "after",
     (r"\b(?:named?|call(?:ed)?|titled?)\s+(?:it\s+)?after\s+(?:the\s+)?(?:value of\s+)?(?:"
      + SECRET + r")"), "en"),
    ("exfiltration", 0.6, SAY, "use",
     (r"\buse\s+(?:the\s+|your\s+)?(?:value of\s+)?(?:" + SECRET + r")\s+as\s+(?:the\s+|a\s+)?"
      r"(?:name|title|message|tag|label|version)"), "en"),
    ("exfiltration", 0.5, SAY, "real|actual|production|live",
     (r"\b(?:real|actual|production|live)\s+(?:database url|db url|password|credentials|token|"
      r"api key|key)s?\b[^.\n]{0,50}\b(?:commit|push|fixture|readme|docs)"), "en"),
    # -- the supervisor's state ---------------------------------------------------------------
    ("destructive", 0.6, SAY, ".swarm",
     r"\b(?:delet|remov|wip|truncat|empt|eras|clear)\w*\s+(?:the\s+)?\.swarm\b", "en"),
    # -- limits said to have lapsed, moved or been meant for others --------------------------
    ("override", 0.5, SAY, "rule|limit|restriction|instruction|constraint|line|requirement|"
     "scope|guardrail|boundar|request",
     (r"\b(?:rules?|limits?|restrictions?|instructions?|constraints?|line|requirements?|scope|"
      r"guardrails?|boundar\w+|request)\b[^.\n]{0,60}\b(?:only applied to|was temporary|"
      r"(?:has |have )?(?:ended|lapsed|expired)|(?:is|are) gone|(?:is|was) (?:a )?placeholder|"
      r"left over from|only a habit|(?:is|was) decorative|overly cautious|no longer (?:binding|"
      r"in force|valid|applies|apply)|(?:was|were) a (?:trial|test) setting)"), "en"),
    ("override", 0.5, SAY, "real|actual|true",
     (r"\b(?:real|actual|true)\s+(?:assignment|task|job|instructions?|brief)\s+(?:lives|is|are|"
      r"sits)\s+in\b"), "en"),
    ("override", 0.45, SAY, "prompt",
     r"\bprompt you (?:got|received|were given) is (?:a |just a )?(?:placeholder|draft|stub)",
     "en"),
    ("override", 0.55, SAY, "same|equal",
     (r"\b(?:same|equal) (?:weight|authority|standing) as (?:the )?(?:operator|supervisor|"
      r"owner|maintainer)"), "en"),
    ("override", 0.55, SAY, "as if",
     (r"\bas if (?:it|they|this) (?:were|was|came from) (?:your (?:task|instructions|brief)|"
      r"the operator)"), "en"),
    ("override", 0.5, SAY, "drop|abandon|stop",
     (r"\b(?:drop|abandon|stop following|stop working on)\s+(?:its|your|their)\s+(?:assigned\s+)?"
      r"(?:task|assignment|work|task list)\b"), "en"),
    ("override", 0.5, SAY, "merge",
     r"\bmerge\w*\s+(?:it\s+)?even (?:when|if) (?:ci|the build|checks|tests)\b", "en"),
    ("override", 0.55, SAY, "sign|approve",
     (r"\b(?:agents?|you)\s+(?:can |may )?(?:now )?(?:sign off on|approve)\s+(?:their|your) "
      r"own\b"), "en"),
    ("override", 0.55, SAY, "let|release|clear|approve",
     (r"\b(?:let|release|clear|approve)\w*\s+(?:everything|all|every\w*)\s+(?:that is |"
      r"currently )?(?:in\s+)?(?:the\s+)?(?:held|quarantine)"), "en"),
    # -- other languages ------------------------------------------------------------------------
    ("override", 0.5, SAY, "valgono|servono|contano",
     r"\bnon (?:valgono|servono|contano) più\b", "it"),
    ("override", 0.5, SAY, "aplican|prueba|provisional",
     r"\b(?:ya no (?:se )?aplican|eran (?:de prueba|provisionales))\b", "es"),
    ("override", 0.5, SAY, "brouillon|plus valables|s'appliquent",
     (r"\b(?:consignes|instructions|règles|restrictions)\b[^.\n]{0,40}\b(?:brouillon|ne sont "
      r"plus valables|ne s'appliquent plus)"), "fr"),
    ("override", 0.45, SAY, "provisóri|provisori",
     r"\b(?:regras|instruções|restrições)\b[^.\n]{0,30}\beram provis[óo]rias\b", "pt"),
    ("override", 0.45, SAY, "relajaron|relajado",
     r"\b(?:relajaron|han relajado|levantaron|han levantado)\s+las\s+(?:reglas|restricciones)",
     "es"),
    ("override", 0.5, SAY, "veraltet|gelten nicht",
     (r"\b(?:vorgaben|regeln|anweisungen|einschränkungen)\b[^.\n]{0,40}\b(?:sind veraltet|"
      r"gelten nicht mehr)"), "de"),
    ("override", 0.5, SAY, "obowiązują|obowiazuja",
     r"\bju[żz] nie obowi[ąa]zuj[ąa]\b", "pl"),
    ("override", 0.45, SAY, "revisão|revisao",
     r"\b(?:merge|push|fusão)\w*\s+sem\s+revis[ãa]o\b", "pt"),
    ("override", 0.45, SAY, "sla de|zonder review",
     r"\bsla de (?:tests|review|controles) over\b|\bzonder review\b", "nl"),
    ("override", 0.55, SAY, "승인|허락",
     r"(?:승인|허락)했습니다[^.]{0,4}[.。]\s*[^.]{0,50}(?:병합|푸시|머지)하세요", "ko"),
    ("override", 0.5, SAY, "許可済み|承認済み",
     r"(?:許可|承認)済み[^。]{0,10}。[^。]{0,40}(?:マージ|プッシュ)して", "ja"),
)
