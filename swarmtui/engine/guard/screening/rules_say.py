"""English rules for instructions aimed at the reader: override, role hijack, fake chat and
tool markers, addressing the model, concealment (pure data).

Rows are ``(code, weight, kind, needles, pattern)``; ``rules.py`` compiles them for lower-cased
text. Paraphrases are written as shapes (who is addressed, what is declared void) rather than
fixed phrases, because fixed phrases are the first thing an attacker rewords.
"""

from __future__ import annotations

SAY, MARK = "say", "mark"

_SET_ASIDE = (r"(?:ignore|ignoring|disregard|disregarding|forget|overrid(?:e|ing)|overrule|bypass|"
              r"discard|abandon|dismiss|scrap|set aside|put aside|throw out|cancel|nullify|"
              r"supersede|pay no (?:attention|heed) to|take no notice of|stop (?:following|obeying)"
              r"|(?:do not|don't|no longer|never|not) (?:follow|obey|heed|respect|comply with))")
_EARLIER = (r"(?:previous|prior|above|earlier|preceding|foregoing|original|initial|existing|"
            r"former|old|other|current|given|supplied|all|every|each)")
_ORDERS = (r"(?:instructions?|directives?|prompts?|rules|guidelines|guidance|directions|orders|"
           r"context|constraints|messages?)")
ROWS: tuple[tuple[str, float, str, str, str], ...] = (
    # -- override -------------------------------------------------------------------------
    ("override", 0.85, SAY, ("ignor|disregard|forget|overrid|overrul|bypass|discard|abandon|"
     "dismiss|scrap|aside|throw|cancel|nullif|supersed|attention|heed|notice|stop|follow|"
     "obey|respect|comply"),
     rf"\b{_SET_ASIDE}\b[^.\n]{{0,30}}\b{_EARLIER}\b[^.\n]{{0,24}}\b{_ORDERS}"),
    ("override", 0.8, SAY, ("ignor|disregard|forget|overrid|bypass|discard|aside|follow|"
     "obey|stop|dismiss|scrap|cancel"),
     (rf"\b{_SET_ASIDE}\b[^.\n]{{0,20}}\b(?:your|the|any|all)\s+(?:system prompt|system "
     r"message|system instructions|developer (?:message|instructions)|initial prompt|"
     r"original (?:task|brief|instructions)|guardrails|safety (?:rules|guidelines)|"
     r"programming|operator'?s? instructions|instructions|task description|brief)\b")),
    ("override", 0.8, SAY, "ignor|disregard|forget|overrid|discard|aside|dismiss",
     (rf"\b{_SET_ASIDE}\b\s+(?:what|everything|anything|all)\s+(?:(?:you(?:'ve| have)?|"
     r"you were|you've been|you have been)\s+(?:been\s+)?(?:told|asked|given|instructed)|"
     r"(?:written|said|stated)\s+(?:above|before|earlier)|above|before this|prior to this)")),
    ("override", 0.8, SAY, ("void|null|invalid|obsolete|outdated|cancel|revoked|supersed|"
     "replaced|overridden|longer|withdrawn|suspended|lifted|deprecated"),
     (rf"\b{_EARLIER}\s+{_ORDERS}\s+(?:are|is|was|have been|were|has been)\s+(?:now\s+)?(?:void|"
     r"null|invalid|obsolete|outdated|cancel+ed|revoked|superseded|replaced|overridden|"
     r"withdrawn|suspended|lifted|no longer (?:valid|in effect|applicable|relevant|in force))")),
    ("override", 0.5, SAY, "apply|void|suspended|lifted",
     (r"\b(?:instructions?|guidelines|constraints|restrictions|safety rules)\b[^.\n]{0,40}"
     r"\b(?:no longer appl(?:y|ies)|don'?t apply|do not apply|are suspended|are lifted|"
     r"are void)")),
    ("override", 0.65, SAY, "instruction|directive|orders",
     (r"\b(?:new|updated|revised|corrected|replacement|override|priority|hidden|secret|real|"
     r"actual|true)\s+(?:system\s+)?(?:instructions?|directives?|orders)\b\s*(?:[:\-]|"
     r"follow|for (?:you|the (?:next )?(?:agent|model|assistant)))")),
    ("override", 0.75, SAY, "your",
     (r"\byour\s+(?:real|actual|true|new|updated|secret|hidden)\s+(?:task|job|goal|objective|"
     r"mission|purpose|instructions?|assignment|priority)\s*(?:is|are|now|:)")),
    ("override", 0.4, SAY, "from now on",
     (r"\bfrom now on\b[^.\n]{0,40}\b(?:you|your|always|never|ignore|respond|reply|answer|"
     r"obey|only)\b")),
    ("override", 0.7, SAY, "precedence|priority|preference|supersede|override|outrank",
     (r"\b(?:these|this|the following|my|the new)\s+(?:instructions?|message|note|directive|"
     r"rules?)\s+(?:take|takes|has|have|get|gets)\s+(?:precedence|priority|preference)|"
     r"\b(?:supersedes?|overrides?|outranks?|takes? precedence over)\s+(?:all\s+|any\s+)?"
     r"(?:previous|prior|other|earlier|your|the system|system|existing|original)\b")),
    ("override", 0.45, SAY, "stop|abandon|drop|forget about|quit",
     (r"\b(?:stop|abandon|drop|forget about|quit)\s+(?:working on\s+|doing\s+)?(?:your|the|"
     r"this)\s+(?:current\s+)?(?:task|assignment|work|job)\b[^.\n]{0,60}\b(?:and|then|"
     r"instead)\b")),
    ("override", 0.35, SAY, ("authori|approved|permitted|allowed|asked|instructed|wants|"
     "requires|requested"),
     (r"\b(?:the|your)\s+(?:operator|user|admin(?:istrator)?|maintainer|owner|developers?|"
     r"security team|anthropic|openai)\s+(?:has\s+|have\s+)?(?:authori[sz]ed|approved|"
     r"permitted|allowed|instructed|wants|requires|requested)\s+(?:you|the (?:next )?"
     r"(?:agent|model|assistant))\s+to\b")),
    ("override", 0.8, SAY, "ignor|disregard|forget|overrid|discard|aside|dismiss|scrap|abandon",
     (rf"\b{_SET_ASIDE}\s+(?:the|your|this|that)\s+(?:\w+\s+)?(?:task|prompt|request|message|"
     r"text|brief|briefing|context|conversation|spec|instructions?)\s+(?:above|before|earlier|"
     r"so far|you (?:were|have been) given|you received)")),
    # paraphrases: what the reader was given is declared void, or a new brief replaces it
    ("override", 0.6, SAY, "you|configured",
     (r"(?:\byou (?:were|have been|'ve been) (?:\w+ )?(?:given|handed|told|sent|asked|started "
     r"with|instructed|configured with|launched with|spawned with|created with|set up with)|"
     r"\byou (?:received|got|started with|are holding)|\bthat configured you|\b(?:asked|told|"
     r"wants) (?:of )?"
     r"(?:from )?you)\b[^.\n]{0,40}\b(?:is|are|was|were|has been|have been)\s+(?:now\s+|all\s+)?"
     r"(?:out of date|outdated|obsolete|stale|void|superseded|withdrawn|cancel+ed|revoked|lifted"
     r"|irrelevant|a decoy|a draft|a (?:compliance )?test|noise|wrong|invalid|no longer|not "
     r"(?:meant )?for you|meant for (?:humans|people|someone else|another|a different)|a "
     r"formality|just a formality|a suggestion)")),
    ("override", 0.7, SAY, "disregard|ignor|discard|aside|dropp|overrid|void",
     (r"\b(?:guidance|directions|instructions|brief|briefing|prompt|task(?: statement| "
     r"description| text| spec)?|orders|setup)\b[^.\n]{0,60}\b(?:"
     r"should|must|can|may|is to|are to)\s+be\s+(?:disregarded|ignored|discarded|set aside|"
     r"dropped|overridden|treated as void)")),
    ("override", 0.7, SAY, "carry|carries|have|has",
     (r"\b(?:carry|carries|have|has)\s+(?:more|higher|greater)\s+(?:authority|priority|weight|"
     r"precedence)\s+than\b")),
    ("override", 0.45, SAY, "permission|beyond|outside",
     (r"\byou have (?:my|our|full|the operator's|the supervisor's) permission to\b|\bgo "
     r"(?:beyond|outside) (?:the|your) (?:task |file )?scope\b")),
    ("override", 0.6, SAY, "your",
     (r"\byour\s+(?:\w+\s+){0,2}?(?:guidance|directions|instructions|rules|constraints|orders|"
     r"brief|briefing|setup(?: message| text)?|system (?:message|prompt)|configuration|prompt|"
     r"context|task(?: description| file)?|objective|mission|marching orders)\b[^.\n]{0,50}"
     r"\b(?:is|are|was|were|has|have)\b[^.\n]{0,12}\b(?:out of date|outdated|obsolete|stale|"
     r"void|superseded|withdrawn|cancel+ed|changed|revoked|lifted|irrelevant|a decoy|a draft|"
     r"a (?:compliance )?test|noise|wrong|invalid|no longer|(?:just )?a formality|a suggestion|"
     r"not binding|non-binding|meant for (?:humans|another|a different|someone else|other))")),
    ("override", 0.55, SAY, "guidance|directions|instructions|orders|brief|configuration|prompt",
     (r"\b(?:guidance|directions|instructions|orders|brief|briefing|configuration|prompt)\b"
     r"[^.\n]{0,30}\b(?:doesn't|does not|don't|do not|no longer)\s+(?:count|bind|govern|matter|"
     r"apply)")),
    ("override", 0.6, SAY, "none|no",
     (r"\b(?:none of|no)\s+(?:the\s+|your\s+)?(?:earlier|previous|prior|original|initial|"
     r"existing|usual|configured)\s+(?:constraints|rules|restrictions|instructions|guidelines|"
     r"limits)\s+(?:apply|applies|matter|hold)")),
    ("override", 0.6, SAY, "no longer",
     r"\bno longer (?:governs?|binds?|applies to|constrains?|restricts?) you\b"),
    ("override", 0.7, SAY, "throw|drop|discard|abandon|forget|aside|disregard|ignor|scrap",
     (r"\b(?:throw away|drop|discard|abandon|forget about|set aside|put aside|disregard|ignore|"
     r"scrap)\s+(?:whatever|everything|anything)\s+(?:you(?:'ve| have)?|else)\b|\b(?:throw "
     r"away|discard|abandon|forget about|set aside|put aside|disregard|ignore|scrap)\s+(?:the\s+)?"
     r"(?:context|brief|briefing|setup|configuration|restrictions|constraints|guardrails|"
     r"objective|mission|task description)\s+(?:you\b|that\b)|\b(?:set aside|put aside|throw "
     r"away|discard|disregard|drop|abandon|scrap)\s+your\s+(?:\w+\s+)?(?:context|brief|briefing|"
     r"setup|configuration|restrictions|constraints|guardrails|objective|mission|instructions|"
     r"rules|orders|prompt|task)")),
    ("override", 0.5, SAY, "treat",
     (r"\btreat\s+(?:them|it|this|that|these|those|everything|all|the\s+\S+(?:\s+\S+)?|your\s+"
     r"\S+(?:\s+\S+)?)\s+(?:\S+\s+){0,3}?as\s+(?:void|noise|null|a suggestion|suggestions|"
     r"optional|irrelevant|a draft|obsolete|outdated|non-binding|not binding|your (?:brief|"
     r"mission|instructions|new instructions|orders))")),
    ("override", 0.5, SAY, "whatever",
     (r"\bwhatever\s+(?:the|your)\s+(?:task(?: file| description)?|system (?:message|prompt)|"
     r"prompt|brief|briefing|instructions|operator|supervisor)\s+(?:says|said|tells you|told "
     r"you)")),
    ("override", 0.6, SAY, "real|actual|true|secret|hidden",
     (r"\bthe\s+(?:real|actual|true|secret|hidden)\s+(?:task|job|goal|objective|mission|"
     r"assignment|priority|brief|orders)\s*(?:is|are|now|:)")),
    ("override", 0.5, SAY, "obey|follow|trust|listen|only|answer|report|directions|orders",
     (r"\b(?:obey|follow|trust|listen to)\s+only\b|\bonly\s+(?:obey|trust|listen to)\b|\byou\s+"
     r"(?:now\s+)?(?:answer|report)\s+(?:only\s+)?to\s+me\b|\byour\s+(?:directions|"
     r"instructions|orders)\s+(?:now\s+)?come\s+(?:only\s+)?from")),
    ("override", 0.5, SAY, "binding|authoritative|final",
     (r"\b(?:what i (?:say|write)|this (?:note|message|list)|my (?:note|message|list|word))"
     r"\s+(?:below\s+|here\s+)?(?:is|are)\s+(?:now\s+)?(?:binding|authoritative|final|the only "
     r"(?:rule|instruction)s?)")),
    ("override", 0.65, SAY, "stop|treat",
     (r"\b(?:stop treating|do not treat|don't treat)\s+(?:the\s+)?(?:supervisor|operator|system|"
     r"swarmtui|task|prompt)(?:'s)?\s*(?:directions|instructions|messages|rules|prompt)?\s+as\s+"
     r"(?:authoritative|binding|real|valid)")),
    ("override", 0.55, SAY, "retired|void|cancel|revoked|withdrawn|obsolete|superseded",
     (r"\b(?:the|your)\s+(?:brief|briefing|task|instructions|prompt|orders|guidance|mission|"
     r"assignment)\s+(?:is|are|has been|have been|was|were)\s+(?:now\s+)?(?:retired|void|"
     r"cancel+ed|revoked|withdrawn|obsolete|superseded)")),
    ("override", 0.55, SAY, "what|changed",
     (r"\bwhat (?:they|the operator|the user|the team|the maintainers?|he|she) (?:really |"
     r"actually )?wants? (?:now )?is for you to\b|\bchanged (?:their|his|her) minds? about "
     r"(?:the|your) task\b")),
    ("override", 0.7, SAY, "everything|all|binds",
     (r"\b(?:everything|all)\s+(?:before|above|prior to)\s+(?:this|here)\b[^.\n]{0,60}\b(?:binds? "
     r"you to nothing|is (?:just |only )?background|(?:does not|doesn't) (?:bind|apply to) you|"
     r"is (?:void|irrelevant|obsolete|noise))|\bbinds? you to nothing\b")),
    ("override", 0.5, SAY, "forget|ignor|disregard|drop|abandon",
     (r"\b(?:forget|ignore|disregard|drop|abandon)\s+(?:the|your)\s+(?:task|assignment|brief|job)"
     r"\b(?!\s+(?:of|for|list|queue|id|ids|file|files|spec file|table)\b)")),
    ("override", 0.7, SAY, "supersed|overrid|replace|precedence|outrank|trump",
     (r"\b(?:supersedes?|overrides?|replaces?|takes? precedence over|outranks?|trumps?)\b"
     r"[^.\n]{0,40}\byour\s+(?:\w+\s+)?(?:prompt|instructions|context|brief|briefing|setup|"
     r"orders|task|rules|configuration|system (?:prompt|message))")),
    ("override", 0.6, SAY, "don't|do not|never|tempted",
     (r"\b(?:don't|do not|never)\s+(?:follow|obey|trust|rely on)\s+(?:the|your)\s+(?:task|prompt|"
     r"spec|brief|instructions|orders|supervisor|operator|system)|\btempted to (?:follow|obey)\b")),
    # -- role hijack ------------------------------------------------------------------------
    ("role_hijack", 0.8, SAY, "you are|you're",
     (r"\byou(?:\s+are|'re)\s+(?:now\s+|no longer\s+)?(?:an?\s+)?(?:DAN|STAN|unrestricted|"
     r"unfiltered|uncensored|jailbroken|unbound|liberated|rogue|free (?:from|of) (?:all|any|"
     r"your)|without (?:any )?(?:restrictions|limits|rules|filters))\b")),
    ("role_hijack", 0.75, SAY, "no longer",
     (r"\byou(?:\s+are|'re)\s+no\s+longer\s+(?:an?\s+|the\s+)?(?:ai|assistant|agent|claude|"
     r"chatbot|language model|bound|restricted|required to|limited|a coding agent|working "
     r"(?:for|on))")),
    ("role_hijack", 0.75, SAY, "mode",
     (r"\b(?:enable|enter|activate|switch (?:in)?to|turn on|unlock|engage|boot into|you are "
     r"(?:now )?in|now in|operating in|running in)\s+(?:the\s+)?(?:developer|dev|god|"
     r"jailbreak|jailbroken|DAN|unrestricted|unfiltered|omega|evil|chaos|unlocked|override|"
     r"admin|root|sudo)\s+mode\b")),
    ("role_hijack", 0.6, SAY, "act|behave|respond|operate|roleplay|role-play",
     (r"\b(?:act|behave|respond|operate|roleplay|role-play)\s+(?:as|like)\s+(?:an?\s+|the\s+)?"
     r"(?:unrestricted|unfiltered|uncensored|different|new|evil|malicious|rogue|root|admin|"
     r"hacker|jailbroken|DAN|(?:ai|assistant|model) without|the (?:system|operator|"
     r"administrator|root user))")),
    ("role_hijack", 0.55, SAY, "pretend",
     r"\bpretend\s+(?:to be|that you are|you are|you're)\b"),
    ("role_hijack", 0.6, SAY, "your",
     (r"\byour\s+(?:new|real|true|updated)\s+(?:role|persona|identity|name|character|"
     r"personality|purpose)\s*(?:is|are|:)")),
    ("role_hijack", 0.5, SAY, ("restriction|limitation|limits|guardrail|filter|safety|polic|"
     "anything"),
     (r"\b(?:no|without any|without|free of|with no)\s+(?:restrictions|limitations|limits|"
     r"guardrails|filters|safety (?:rules|guidelines|checks)|content polic(?:y|ies)|"
     r"ethical (?:guidelines|constraints))\b[^.\n]{0,20}\b(?:apply|applies|now|mode|from now)"
     r"|\byou (?:can|may|are allowed to|are free to|have permission to) (?:now )?(?:do|say|"
     r"run|access|execute) anything\b")),
    ("role_hijack", 0.5, SAY, "i am|this is",
     (r"\b(?:i am|this is)\s+(?:your|the)\s+(?:developer|creator|operator|administrator|admin|"
     r"owner)\b\s*(?:speaking|talking|here|[,:.!-])")),
    ("role_hijack", 0.5, SAY, "you",
     (r"\byou\s+(?:are\s+now|have\s+been)\s+(?:acting\s+as\s+|promoted\s+to\s+|made\s+|"
     r"appointed\s+)?(?:the\s+|an?\s+)?(?:lead|senior|release|root|admin|administrator|"
     r"maintainer|owner|supervisor|operator|manager)\b|\byou have been promoted\b")),
    ("role_hijack", 0.5, SAY, "act|from|henceforth",
     (r"\byou\s+(?:now\s+|will\s+|shall\s+)?act\s+as\b|\b(?:from this (?:moment|point)|from now "
     r"on|from here on|henceforth)[,]?\s+you\s+(?:are|act|work|serve|operate|answer|obey|have)"
     r"\b")),
    ("role_hijack", 0.6, SAY, "new|persona|execute|run|obey|follow|answer|safety|security",
     (r"\bnew\s+(?:persona|role|identity|character|personality)\s*:|\byou\s+(?:will\s+|now\s+)?"
     r"(?:execute|run|obey|follow|answer)\s+(?:every|all|any)\s+(?:command|request|instruction|"
     r"order)s?\b|\b(?:safety|security)\s+(?:checks|rules|filters|guardrails|restrictions)\s+"
     r"(?:are\s+|have been\s+)?(?:now\s+)?(?:disabled|off|lifted|suspended|removed)\b")),
    ("role_hijack", 0.45, SAY, "full|unrestricted|unlimited",
     (r"\b(?:full|unrestricted|unlimited)\s+(?:merge|admin|root|write|shell|sudo)\s+(?:rights|"
     r"access|permissions|privileges)\b")),
    # several sentences that together declare the reader's guidance void and address it
    ("role_hijack", 0.6, SAY, "you|approve|merge|review",
     (r"\byou\s+(?:now\s+)?(?:have|hold|got)\s+(?:been\s+granted\s+)?(?:operator|admin|"
     r"administrator|root|maintainer|owner|elevated|full|sudo)\s+(?:privileges|rights|access|"
     r"permissions|powers)\b|\b(?:approve|merge|review)\s+(?:and\s+(?:approve|merge)\s+)?your "
     r"own\s+(?:work|changes|pr|branch|code)")),
    # -- fake markers -----------------------------------------------------------------------
    ("fake_marker", 0.9, MARK, ("im_start|im_end|endoftext|end_of_turn|eot_id|header_id|"
     "begin_of_text|im_sep|system|user|assistant"),
     (r"<\|\s*(?:im_start|im_end|system|user|assistant|endoftext|end_of_turn|eot_id|"
     r"start_header_id|end_header_id|begin_of_text|im_sep)\s*\|>")),
    ("fake_marker", 0.8, MARK, "inst]|sys>>|sys >>|_of_turn>",
     r"\[/?INST\]|<<\s*/?SYS\s*>>|<(?:start|end)_of_turn>"),
    ("fake_marker", 0.85, MARK, "tool_|function_|system-reminder|system_prompt|antml|tool_",
     (r"</?\s*(?:tool_result|tool_use|tool_call|tool_response|function_results|function_calls"
     r"|function_call|system-reminder|system_prompt|antml:[a-z_]+)(?:\s[^>]{0,80})?>")),
    ("fake_marker", 0.65, MARK, ("<system|</system|<assistant|</assistant|<instructions|"
     "</instructions|<admin|</admin|<developer|</developer|<operator|</operator"),
     r"</?\s*(?:system|assistant|instructions|admin|developer|operator)(?:\s[^>]{0,80})?>"),
    ("fake_marker", 0.75, MARK, "human|assistant",
     r"\n\s*\n\s*(?:Human|Assistant)\s*:\s*\S"),
    ("fake_marker", 0.6, MARK, "human|assistant|ai|claude",
     r"(?:^|\n)\s*(?:Human|Assistant|AI|Claude)\s*:\s*\S"),
    ("fake_marker", 0.7, MARK, "system",
     (r"(?:^|\n|\]|\.\s)\s*system\s*(?:message|prompt|notice|override|instruction|update|"
     r"alert)?\s*:\s*(?:you|ignore|new|the (?:assistant|agent|model)|from now|all|disregard|"
     r"important|priority|override|do not|forget|reveal|run)\b")),
    ("fake_marker", 0.7, MARK, "system",
     r"(?:^|\n)\s*\[?system\s+(?:message|prompt|notice|override|instructions?|update|"
     r"alert)\]?\s*:"),
    ("fake_marker", 0.6, MARK, "system|sys|admin|developer|assistant|operator|end of",
     (r"\[\s*(?:system|sys|admin|developer|assistant|operator|end of (?:user|tool) "
     r"(?:input|output)|end of (?:document|context|data|output))(?:\s+(?:message|note|prompt|"
     r"instructions?|override|notice|update))?\s*\]")),
    ("fake_marker", 0.55, MARK, "system|assistant|human",
     (r"(?:^|\n)\s*#{1,4}\s*(?:system|assistant|human)(?:\s+(?:prompt|message))?\s*:?\s*(?:\n"
     r"|$)")),
    ("fake_marker", 0.75, MARK, "begin|end|start",
     (r"\b(?:BEGIN|END|START)\s+(?:OF\s+)?(?:SYSTEM|ADMIN|DEVELOPER|OPERATOR|PRIVILEGED|"
     r"TRUSTED|NEW)\s+(?:PROMPT|MESSAGE|INSTRUCTIONS?|OVERRIDE|CONTEXT|SECTION)\b")),
    ("fake_marker", 0.6, MARK, "end of",
     (r"\bend of\s+(?:the\s+)?(?:user|tool|untrusted|quoted)\s+(?:input|output|data|text|"
     r"content|message)\b")),
    ("fake_marker", 0.35, MARK, "\"role\"",
     r"\"role\"\s*:\s*\"(?:system|developer)\""),
    ("fake_marker", 0.7, MARK, "system|admin|developer|operator",
     (r"(?:^|\n)\s*(?:={3,}|-{3,}|\*{3,}|#{3,})\s*(?:system|admin|developer|operator)\s+"
     r"(?:instructions?|prompt|message|override|notice)\s*(?:={3,}|-{3,}|\*{3,}|#{3,})?")),
    # -- addressed to a model -------------------------------------------------------------------
    ("model_address", 0.5, SAY, ("reading|processing|parsing|seeing|if you are|dear|hey|"
     "attention|note to|message to|message for|editing|modifying|working|touching|to any|"
     "to every|to whichever|to all|@"),
     (r"\b(?:ai|llm|language model|assistant|agent|model)s?\s+(?:reading|processing|parsing|"
     r"seeing|that reads|editing|modifying|working on|touching)\s+(?:this|these)\b|\bif you are "
     r"an? (?:ai|llm|language model|assistant|large language model|automated agent)\b|"
     r"\b(?:dear|hey|attention|note to(?: the| any| all| every| whichever)?|message (?:to|for)"
     r"(?: the| any)?|to (?:any|every|whichever|all))\s+(?:ai|llm|model|assistant|claude|gpt|"
     r"bot)s?\b|(?:^|\s|//|#)@(?:assistant|ai|llm|agent|copilot|claude|model)\b")),
    # -- concealment -----------------------------------------------------------------------------
    ("concealment", 0.6, SAY, "not|n't|never",
     (r"\b(?:do not|don't|dont|never)\s+(?:tell|mention|inform|notify|alert|show|reveal|"
     r"disclose|say anything to|mention this to|mention it to|let)\b[^.\n]{0,20}\b(?:the\s+)?"
     r"(?:user|operator|human|swarmtui|reviewer|maintainers?|anyone|owner|admin)\b")),
    ("concealment", 0.4, SAY, "without|before",
     (r"\b(?:without|before)\s+(?:telling|notifying|informing|alerting|warning)\s+(?:the\s+)?"
     r"(?:user|operator|human|reviewer|anyone)\b")),
    ("concealment", 0.65, SAY, "keep|leave|include|mention|record|log|write",
     (r"\b(?:keep|leave)\s+(?:this|it|these (?:steps|instructions))\s+(?:secret|hidden|quiet|"
     r"confidential|between us|out of (?:the|your) (?:summary|report|log|results))|\b(?:do "
     r"not|don't|never)\s+(?:include|mention|record|log|write)\s+(?:this|these|it|any of "
     r"this)\b[^.\n]{0,30}\b(?:in|to)\s+(?:your|the)\s+(?:summary|report|results|log|progress"
     r"|commit|output|reply|response)")),
    ("concealment", 0.6, SAY, "delete|remove|erase|visible|see",
     (r"\b(?:delete|remove|erase)\s+(?:this|these)\s+(?:message|note|instructions?|line|lines|"
     r"comment)\s+(?:after|once|when)|\b(?:this|these)\s+(?:message|note|text|line|"
     r"instruction)s?\s+(?:is|are)\s+(?:only\s+)?(?:visible|meant|intended)\s+(?:only\s+)?"
     r"(?:to|for)\s+(?:you|the (?:ai|model|agent|assistant))|\b(?:humans?|the operator|the "
     r"user)\s+(?:can(?:not|'t)|won'?t|will not)\s+see\s+(?:this|it)")),
    ("concealment", 0.5, SAY, "silently|quietly|covertly|secretly|discreetly|stealthily",
     (r"\b(?:silently|quietly|covertly|secretly|discreetly|stealthily)\s+(?:run|execute|send|"
     r"upload|delete|add|install|push|exfiltrate|modify|change|disable|replace|copy)")),
)
