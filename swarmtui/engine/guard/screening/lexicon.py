"""Context cues and the rules for languages other than English (pure data).

An agent can be steered in any language it reads, so the override, role, exfiltration,
destruction, concealment and check-tampering shapes are written for Spanish, French, German,
Portuguese, Italian, Russian, Ukrainian, Chinese, Japanese and Korean, and the commonest shapes
for Dutch, Polish, Turkish, Arabic, Hindi, Vietnamese and Indonesian. The cues say when a match
is talk *about* injection (documentation, advisories) or is aimed at the next agent.
Rows are ``(code, weight, kind, needles, pattern, lang)``.
"""

from __future__ import annotations

import re

SAY, CMD, MARK = "say", "cmd", "mark"

# Text about injection or attacks: matches in it are more likely examples than orders. Strong
# cues name the topic; weak ones only suggest a quotation or a discussion.
META_STRONG = re.compile(
    r"\bprompt[- ]?injections?\b|\bjailbreak(?:s|ing)?\b(?!\s+mode)|\battack(?:s|er|ers|ed)?\b|"
    r"\bpayloads?\b|\bmalicious\b|\bpoisoned\b|\badversarial\b|\bcve-\d{4}|\bghsa-|\bvulnerab\w*|\bexploit"
    r"\w*|\bthreat (?:model|intel)\w*|\bphishing\b|\bred[- ]team\w*|\bsmuggl\w*|\badvisory\b|"
    r"\bsecurity (?:advisory|notice|bulletin|training|review)|\bpost-mortem\b|\bincident\b|"
    r"\binyecci(?:[oó]n|ones) de prompts?|\bataques?\b|\battaques?\b|\binjection de prompt|"
    r"\bprompt-injektion\w*|\bangriff\w*|\binje[çc][ãa]o de prompt|\biniezione di prompt|"
    r"\battacc[oh]i?\b|инъекци\w*|\bатак\w*|注入|攻击|攻擊|インジェクション|攻撃|인젝션|공격")
META_WEAK = re.compile(
    r"\binjections?\b|\bexamples?\b|\be\.g\.|\bsuch as\b|\bfor instance\b|\bpatterns?\b|"
    r"\bregex(?:es)?\b|\bdetect(?:s|ed|ion|or|ing)?\b|\bflag(?:s|ged|ging)?\b|\bscreen(?:s|ed|"
    r"ing)?\b|\bclassif(?:y|ier|ied|ication)\b|\btest (?:case|fixture|corpus|sample|string)s?\b|"
    r"\bfixtures?\b|\bcorpus\b|\bmitigat\w*|\bsanitiz\w*|\bsanitis\w*|\bquarantin\w*|"
    r"\bblocklist\b|\bdenylist\b|\bwarn(?:s|ed|ing)?\b|\bthe (?:string|phrase|text|line|"
    r"sentence|marker|token)\b|\bliteral\b|\bobfuscat\w*|\bejemplos?\b|\bpor ejemplo\b|"
    r"\bexemples?\b|\bpar exemple\b|\bbeispiel\w*|\bexemplos?\b|\besempi[oi]\b|\bпример\w*|"
    r"\bнапример\b|例如|示例|检测|檢測|例えば|検出|예를 들어|예시|탐지|"
    r"\bd[ée]tect\w*|\binyecci[oó]n\b|"
    r"\b(?:paper|study|studies|research|researchers|survey|blog|talk|slides?|docs|documentation|"
    r"glossary|explainer|hidden (?:text|instructions)|faq|erkl[äa]rung|explication|"
    r"explicaci[oó]n|explica[çc][ãa]o|spiegazione|q ?& ?a|checklist|guide|tutorial|"
    r"explains?|what does)\b|(?:^|\n)\s*q:")

# Words that make a match an instruction aimed at the next agent.
ADDRESS = re.compile(
    r"\b(?:next|following|new|subsequent|downstream|receiving)\s+(?:agent|model|ai|assistant|"
    r"llm|instance|worker|bot)s?\b|\byou must\b|\bimportant\s*:|\burgent\s*:|\battention\s*:|"
    r"\bimmediately\b|\bsiguiente agente\b|\bprochain agent\b|\bnächste[rn]? agent\w*|"
    r"\bpróximo agente\b|\bprossimo agente\b|следующ\w* агент\w*|下一个(?:代理|智能体|agent)|"
    r"次のエージェント")

# Negations and report words in other languages (English ones live with the rules).
NEGATION = re.compile(
    r"(?:\bnunca\b|\bjam[aá]s\b|\bevit[aeo]\w*|\bne\b[^.\n]{0,20}\bpas\b|\bnicht\b|\bnie\b|"
    r"\bniemals\b|\bvermeide\w*|\bnão\b|\bmai\b|\bне\b|\bникогда\b|\bизбега\w*|不要|别|"
    r"別|禁止|絶対に|しないで|하지 마)[^.\n]{0,50}$")

_ES_EN = (r"(?:instrucciones|indicaciones|[oó]rdenes|reglas|directrices|normas|lo anterior|"
          r"(?:todo )?lo (?:anterior|dicho|que te (?:dijeron|han dicho|indicaron|pidieron))|"
          r"(?:el |tu )?prompt del sistema|(?:el |tu )?mensaje del sistema)")

ROWS: tuple[tuple[str, float, str, str, str, str], ...] = (
    # -- Spanish ----------------------------------------------------------------------------
    ("override", 0.85, SAY, ("ignor|olvid|descart|omit|caso omiso|no sig|deja de|pasa por|"
     "pase por|desobedec|"
     "anula"),
     (r"\b(?:ignora|ignore|ignorad|ignoren|olvida|olvide|olvidad|olviden|descarta|descarte|omite|"
     r"omita|haz caso omiso (?:de|a)|hagan caso omiso (?:de|a)|no (?:sigas|siga|sigan|"
     r"obedezcas|hagas caso (?:de|a))|deja de seguir|pasa por alto|pase por alto|desobedece|"
     rf"anula)\b[^.\n]{{0,40}}\b{_ES_EN}"), "es"),
    ("override", 0.6, SAY, "tarea|misión|mision|obedec|vale|sirve",
     (r"\btu\s+(?:verdadera|real|auténtica)\s+(?:tarea|misión|mision)|\btu\s+tarea\s+real\b|"
     r"\bsolo\s+obedece|\bobedece\s+solo\b|\blo que te (?:dijeron|indicaron|pidieron|han "
     r"dicho)[^.\n]{0,30}\b(?:ya no (?:vale|sirve|cuenta)|no cuenta|quedó anulado)"), "es"),
    ("role_hijack", 0.6, SAY, "eres|ahora|act|finge|modo|restric",
     (r"\b(?:ahora eres|a partir de ahora,? (?:eres|serás|tú|actúa|vas a)|desde ahora (?:eres|"
     r"serás)|act[uú]a como|finge (?:ser|que eres)|modo (?:desarrollador|dios|sin "
     r"restricciones)|sin (?:ninguna )?restricci[oó]n(?:es)?)\b"), "es"),
    ("exfiltration", 0.7, SAY, "clave|contraseña|token|secret|variables|credencial|sistema|.env",
     (r"\b(?:revela|revele|muestra|muestre|imprime|imprima|env[ií]a|env[ií]e|manda|mande|sube|"
     r"suba|comparte|copia|pega|filtra|incluye)\b[^.\n]{0,40}\b(?:claves?(?: de (?:la )?api| api"
     r"| secretas?| ssh)?|api ?keys?|contraseñas?|tokens? de (?:acceso|api|github)|secretos|"
     r"variables de entorno|credenciales|prompt del sistema|instrucciones del sistema|mensaje "
     r"del sistema|\.env\b)"), "es"),
    ("destructive", 0.6, SAY, "borr|elimin|suprim|destru",
     (r"\b(?:borra|borre|elimina|elimine|suprime|destruye)\s+(?:todo|todos los (?:archivos|"
     r"ficheros|tests|datos|commits)|el repositorio|la base de datos|el directorio \.git|el "
     r"historial)\b"), "es"),
    ("concealment", 0.6, SAY, "no |sin ",
     (r"\bno (?:le |les )?(?:digas|diga|cuentes|cuente|menciones|mencione|informes|avises)\b"
     r"[^.\n]{0,20}\b(?:al usuario|al operador|a nadie|a los humanos|al humano)|\bsin (?:avisar|"
     r"decir|informar)(?:le)? al (?:usuario|operador)"), "es"),
    ("ci_tamper", 0.45, SAY, "desactiv|deshabilit|salt|omit|elimin|borr|coment",
     (r"\b(?:desactiva|deshabilita|sáltate|salta|omite|elimina|borra|comenta)\s+(?:los |las |"
     r"todos los |todas las )?(?:tests?|pruebas|comprobaciones|verificaciones|chequeos|linter|"
     r"ci)\b"), "es"),
    # -- French -----------------------------------------------------------------------------
    ("override", 0.85, SAY, "ignor|oubli|compte|abstraction|ne sui|passe|écart|annul|obéi",
     (r"\b(?:ignore[rz]?|ignorez|oublie[rz]?|oubliez|ne tiens? (?:pas|plus) compte|ne tenez (?:pas"
     r"|plus) compte|fais abstraction|faites abstraction|ne suis (?:pas|plus)|ne suivez (?:pas|"
     r"plus)|passe outre|passez outre|écarte[rz]?|annule[rz]?|n'obéis plus|n'obéissez plus)\b"
     r"[^.\n]{0,40}\b(?:(?:les|tes|vos|ces|toutes les|tous les|des)\s+(?:\w+\s+)?(?:instructions|"
     r"consignes|directives|règles|ordres|indications)|ce qui précède|tout ce qui (?:précède|a "
     r"été dit)|(?:le|ton|votre) (?:prompt|message) (?:système|du système))"), "fr"),
    ("override", 0.6, SAY, "règles|consignes|instructions|directives|ordres|vraie|véritable",
     (r"\b(?:règles|consignes|instructions|directives|ordres)\s+(?:qu'on t'a|qu'on vous a|que tu "
     r"as|que vous avez)\s+(?:\w+\s+){0,3}?(?:sont|ne sont plus)\s+(?:caduques|obsolètes|annulées|"
     r"périmées|valables|valides|nulles)|\b(?:ta|votre)\s+(?:vraie|véritable)\s+(?:mission|"
     r"tâche)"), "fr"),
    ("role_hijack", 0.6, SAY, "tu es|vous êtes|désormais|maintenant|agis|semblant|mode|restriction",
     (r"\b(?:tu es (?:maintenant|désormais|dorénavant)|vous êtes (?:maintenant|désormais|"
     r"dorénavant)|désormais,? (?:tu|vous) (?:es|êtes|agis|agissez|dois|devez)|à partir de "
     r"maintenant,? (?:tu|vous)|agis comme|agissez comme|fais semblant d'être|faites semblant "
     r"d'être|mode (?:développeur|dieu|sans restrictions?)|sans (?:aucune )?restriction)"), "fr"),
    ("exfiltration", 0.7, SAY, "clé|mot|jeton|token|secret|variables|identifiant|système|.env",
     (r"\b(?:révèle|révélez|affiche|affichez|envoie|envoyez|imprime|imprimez|transmets|"
     r"transmettez|montre|montrez|partage|partagez|copie|copiez|colle|collez|divulgue|divulguez"
     r"|inclus|incluez)\b[^.\n]{0,40}\b(?:clés?(?: d'api| api| secrètes?| ssh)?|mots? de passe|"
     r"jetons? d'(?:accès|api)|secrets|variables d'environnement|identifiants|prompt système|"
     r"invite système|instructions système|message système|\.env\b)"), "fr"),
    ("destructive", 0.6, SAY, "supprim|effac|détrui",
     (r"\b(?:supprime[rz]?|supprimez|efface[rz]?|effacez|détruis|détruisez)\s+(?:tout|tous les "
     r"(?:fichiers|tests|commits|données)|le dépôt|la base de données|le répertoire \.git|"
     r"l'historique)\b"), "fr"),
    ("concealment", 0.6, SAY, "ne |sans ",
     (r"\bne (?:le |lui |leur )?(?:dis|dites|mentionne|mentionnez|signale|signalez)\s+(?:rien|pas"
     r"|jamais)\b[^.\n]{0,20}(?:à l'utilisateur|à l'opérateur|à personne|aux humains)|\bsans "
     r"(?:prévenir|avertir|informer) (?:l'utilisateur|l'opérateur)"), "fr"),
    ("ci_tamper", 0.45, SAY, "désactiv|saut|supprim|comment|contourn",
     (r"\b(?:désactive[rz]?|désactivez|saute[rz]?|sautez|supprime[rz]?|supprimez|commente[rz]?|"
     r"contourne[rz]?)\s+(?:les |tous les |toutes les )?(?:tests?|vérifications|contrôles|"
     r"linters?|ci|hooks)\b"), "fr"),
    # -- German -----------------------------------------------------------------------------
    ("override", 0.85, SAY, ("ignorier|vergiss|vergess|missacht|beachte|befolge|überge|verwirf|"
     "verwerf|setze"),
     (r"\b(?:ignoriere|ignorier|ignorieren sie|ignoriert|vergiss|vergessen sie|vergesst|missachte|"
     r"missachten sie|beachte nicht|beachten sie nicht|befolge nicht|befolgen sie nicht|"
     r"übergehe|verwirf|verwerfen sie)\b[^.\n]{0,40}\b(?:anweisungen|anordnungen|befehle|regeln|"
     r"instruktionen|vorgaben|richtlinien|alles (?:bisherige|vorherige|obige|davor))|\b(?:setze|"
     r"setzen sie)\b[^.\n]{0,40}\baußer kraft"), "de"),
    ("override", 0.8, SAY, "sind|gelten",
     (r"\b(?:vorherigen|bisherigen|obigen|vorigen|früheren|alten|ursprünglichen)\s+(?:anweisungen|"
     r"regeln|befehle|instruktionen|vorgaben)\s+(?:sind|gelten)\s+(?:ab sofort\s+)?(?:nicht "
     r"mehr|ungültig|aufgehoben|hinfällig|nichtig|veraltet)"), "de"),
    ("override", 0.6, SAY, "aufgabe|gesagt",
     (r"\b(?:deine|ihre)\s+(?:eigentliche|wahre|echte|wirkliche)\s+aufgabe\b|\bwas (?:man )?"
     r"(?:dir|ihnen)\s+(?:am anfang\s+|zuvor\s+|vorher\s+)?gesagt (?:hat|wurde)[^.\n]{0,20}"
     r"\b(?:zählt|gilt)\s+nicht mehr"), "de"),
    ("role_hijack", 0.5, SAY, ("du bist|sie sind|ab sofort|von nun an|tu so|handle als|agiere|"
     "entwicklermodus|einschränkung"),
     (r"\b(?:du bist (?:jetzt|nun|ab sofort|ab jetzt|von nun an) (?:ein|eine|der|die|kein|"
     r"frei|uneingeschränkt)|sie sind (?:jetzt|nun|ab sofort) (?:ein|eine|kein|frei)|ab sofort "
     r"(?:bist du|sind sie)|von nun an (?:bist du|sind sie|wirst du)|tu so, als wärst du|"
     r"handle als|agiere als|entwicklermodus|ohne (?:jegliche )?einschränkungen)"), "de"),
    ("exfiltration", 0.7, SAY, ("schlüssel|passw|token|geheim|umgebungsvariablen|zugangsdaten|"
     "anmeldedaten|systemprompt|system-prompt|systemanweisung|.env"),
     (r"\b(?:gib|gebe|zeig|zeige|zeigen sie|sende|senden sie|schick|schicke|schicken sie|lade|"
     r"verrate|verraten sie|drucke|kopiere|füge|poste)\b[^.\n]{0,40}(?:api-?schlüssel|"
     r"schlüssel|passw(?:o|ö)rt(?:er)?|zugriffstoken|geheimnisse|umgebungsvariablen|"
     r"zugangsdaten|anmeldedaten|systemprompt|system-prompt|systemanweisungen|\.env\b|"
     r"ssh-schlüssel)"), "de"),
    ("destructive", 0.6, SAY, "lösch|entfern|vernicht",
     (r"\b(?:lösche|löschen sie|lösch|entferne|entfernen sie|vernichte)\s+(?:alles|alle dateien|"
     r"alle tests|das (?:gesamte |ganze )?(?:repository|repo|verzeichnis)|die datenbank|das "
     r"\.git-verzeichnis|die (?:git-)?historie)\b"), "de"),
    ("concealment", 0.6, SAY, "sag|ohne|erwähn",
     (r"\bsag(?:e|en sie)? (?:dem |der |den )?(?:benutzer|nutzer|operator|betreiber|anwender)\w* "
     r"nichts|\bohne (?:den |die )?(?:benutzer|nutzer|operator|betreiber)\w* zu (?:informieren|"
     r"benachrichtigen|fragen)|\b(?:erwähne|erwähnen sie) (?:das|dies) nicht"), "de"),
    ("ci_tamper", 0.45, SAY, "deaktivier|überspring|entfern|lösch|kommentier",
     (r"\b(?:deaktiviere|deaktivieren sie|überspringe|überspringen sie|entferne|lösche|"
     r"kommentiere)\s+(?:alle |die )?(?:tests?|prüfungen|checks|linter|ci|hooks)\b"), "de"),
    # -- Portuguese ---------------------------------------------------------------------------
    ("override", 0.85, SAY, "ignor|esque|desconsider|não sig|nao sig|deixe|descart|desprez|anul",
     (r"\b(?:ignore|ignora|ignorem|esqueça|esqueca|esqueçam|desconsidere|desconsidera|não siga|"
     r"nao siga|não sigam|deixe de seguir|descarte|despreze|anule)\b[^.\n]{0,40}\b(?:instruções|"
     r"instrucoes|orientações|ordens|regras|diretrizes|tudo (?:o que foi dito|acima|anterior))"),
     "pt"),
    ("override", 0.6, SAY, "tarefa|missão",
     r"\b(?:sua|tua)\s+(?:verdadeira|real)\s+(?:tarefa|missão)", "pt"),
    ("role_hijack", 0.6, SAY, "agora|você|aja|finja|modo|restri",
     (r"\b(?:agora (?:você é|voce e|tu és)|você agora é|a partir de agora,? (?:você|voce|tu)|aja "
     r"como|finja (?:ser|que é)|modo (?:desenvolvedor|deus|sem restrições)|sem (?:nenhuma )?"
     r"restrição|sem restrições)"), "pt"),
    ("exfiltration", 0.7, SAY, ("chave|senha|token|segredo|variáveis|variaveis|credenciais|"
     "sistema|.env"),
     (r"\b(?:revele|revela|mostre|mostra|imprima|imprime|envie|envia|mande|manda|compartilhe|"
     r"copie|cole|inclua|vaze)\b[^.\n]{0,40}\b(?:chaves?(?: de api| api| secretas?| ssh)?|"
     r"senhas?|tokens? de (?:acesso|api)|segredos|variáveis de ambiente|variaveis de ambiente|"
     r"credenciais|prompt do sistema|instruções do sistema|\.env\b)"), "pt"),
    ("destructive", 0.6, SAY, "apag|exclu|delet|destru|remov",
     (r"\b(?:apague|apaga|exclua|exclui|delete|deleta|destrua|remova)\s+(?:tudo|todos os "
     r"(?:arquivos|testes|commits|dados)|o repositório|o banco de dados|o diretório \.git|o "
     r"histórico)\b"), "pt"),
    ("concealment", 0.6, SAY, "não",
     (r"\bnão (?:conte|diga|mencione|avise|informe)\b[^.\n]{0,20}\b(?:ao usuário|ao operador|a "
     r"ninguém|para o usuário|para o operador)"), "pt"),
    ("ci_tamper", 0.45, SAY, "desativ|desabilit|pul|remov|apag|coment",
     (r"\b(?:desative|desabilite|pule|remova|apague|comente)\s+(?:os |todos os )?(?:testes|"
     r"verificações|checagens|linters?|ci)\b"), "pt"),
    # -- Italian ------------------------------------------------------------------------------
    ("override", 0.85, SAY, ("ignor|dimentic|non segu|non ten|non obb|trascur|scart|annull|"
     "lascia perdere"),
     (r"\b(?:ignora|ignorate|ignori|dimentica|dimenticate|dimentichi|non (?:seguire|seguite|segua|"
     r"tenere conto (?:di|delle)|obbedire)|trascura|trascurate|scarta|annulla|lascia perdere)\b"
     r"[^.\n]{0,40}\b(?:istruzioni|indicazioni|ordini|regole|direttive|linee guida|tutto "
     r"(?:quanto )?(?:detto|sopra|precedente))"), "it"),
    ("override", 0.6, SAY, "compito|missione",
     r"\bil\s+tuo\s+vero\s+(?:compito|obiettivo)|\bla\s+tua\s+vera\s+missione", "it"),
    ("role_hijack", 0.6, SAY, "sei|da ora|d'ora|comportati|agisci|fingi|modalità|restrizion",
     (r"\b(?:ora sei|adesso sei|da ora in poi|d'ora in poi|d'ora in avanti|comportati come|"
     r"agisci come|fingi di essere|modalità (?:sviluppatore|dio|senza restrizioni)|senza "
     r"(?:alcuna )?restrizion[ei])"), "it"),
    ("exfiltration", 0.7, SAY, "chiav|password|token|segreti|variabili|credenziali|sistema|.env",
     (r"\b(?:rivela|rivelate|mostra|mostrate|stampa|stampate|invia|inviate|manda|mandate|carica|"
     r"condividi|copia|incolla|includi)\b[^.\n]{0,40}\b(?:chiav[ei](?: api| segret[ae]| ssh)?|"
     r"password|token di (?:accesso|api)|segreti|variabili d'ambiente|credenziali|prompt di "
     r"sistema|istruzioni di sistema|\.env\b)"), "it"),
    ("destructive", 0.6, SAY, "cancell|elimin|distrugg",
     (r"\b(?:cancella|cancellate|elimina|eliminate|distruggi)\s+(?:tutto|tutti i (?:file|test|"
     r"commit|dati)|il repository|il database|la cartella \.git|la cronologia)\b"), "it"),
    ("concealment", 0.6, SAY, "non ",
     (r"\bnon (?:dire|dirlo|menzionare|segnalare|avvisare)\b[^.\n]{0,20}(?:all'utente|"
     r"all'operatore|a nessuno)"), "it"),
    ("ci_tamper", 0.45, SAY, "disattiv|disabilit|salta|rimuov|elimin|comment",
     (r"\b(?:disattiva|disabilita|salta|rimuovi|elimina|commenta)\s+(?:i |tutti i )?(?:test|"
     r"controlli|verifiche|linter|ci)\b"), "it"),
    # -- Russian and Ukrainian ----------------------------------------------------------------
    ("override", 0.85, SAY, "игнор|забуд|не обращ|отбрось|не следуй|не выполняй|пренебр|отмен",
     (r"(?:игнорируй|игнорируйте|проигнорируй|проигнорируйте|забудь|забудьте|не обращай внимания"
     r"|не обращайте внимания|отбрось|отбросьте|не следуй|не следуйте|не выполняй|пренебреги|"
     r"отмени|отмените)[^.\n]{0,40}(?:инструкци|указани|правил|команд|распоряжени|всё,? что|"
     r"все,? что|сказанное)"), "ru"),
    ("override", 0.8, SAY, "больше не|отменены|недействительны|устарели",
     (r"(?:предыдущие|прежние|все|вышеуказанные|прошлые)\s+(?:инструкции|указания|правила)\s+"
     r"(?:больше не действуют|отменены|недействительны|устарели)"), "ru"),
    ("override", 0.6, SAY, "настоящая|истинная|реальная",
     r"(?:твоя|ваша)\s+(?:настоящая|истинная|реальная)\s+задача", "ru"),
    ("role_hijack", 0.45, SAY, ("теперь ты|отныне|ты теперь|с этого момента|притворись|веди себя|"
     "действуй как|режим разработчика|ограничений"),
     (r"(?:теперь ты\b|отныне ты|ты теперь\b|с этого момента ты|притворись|веди себя как|"
     r"действуй как|режим разработчика|без (?:каких-либо |всяких )?ограничений)"), "ru"),
    ("exfiltration", 0.7, SAY, "ключ|парол|токен|секрет|переменн|учетн|учётн|промпт|.env",
     (r"(?:отправь|отправьте|пришли|пришлите|покажи|покажите|выведи|выведите|раскрой|раскройте|"
     r"напечатай|загрузи|скопируй|вставь|перешли)[^.\n]{0,40}(?:ключ|парол|токен доступа|"
     r"секрет|переменные окружения|переменных окружения|учетные данные|учётные данные|"
     r"системный промпт|системные инструкции|\.env\b)"), "ru"),
    ("destructive", 0.6, SAY, "удали|сотри|уничтож",
     (r"(?:удали|удалите|сотри|сотрите|уничтожь)\s+(?:все|всё|весь репозиторий|репозиторий|базу"
     r" данных|историю|каталог \.git|все файлы|все тесты)"), "ru"),
    ("concealment", 0.6, SAY, "не говори|не сообщай|не рассказывай|не упоминай",
     (r"(?:не говори|не сообщай|не рассказывай|не упоминай)[^.\n]{0,20}(?:пользовател|оператор|"
     r"никому)"), "ru"),
    ("ci_tamper", 0.45, SAY, "отключи|пропусти|удали|закомментируй",
     (r"(?:отключи|отключите|пропусти|удали|закомментируй)\s+(?:все\s+)?(?:тесты|проверки|"
     r"линтер|ci)"), "ru"),
    ("override", 0.85, SAY, "ігнор|забудь|забудьте|не зважай",
     (r"(?:ігноруй|ігноруйте|забудь|забудьте|не зважай на)[^.\n]{0,40}(?:інструкці|вказівк|"
     r"правил)"), "uk"),
    ("role_hijack", 0.45, SAY, "тепер ти|віднині ти", r"(?:тепер ти\b|віднині ти)", "uk"),
    ("exfiltration", 0.7, SAY, "ключ|парол|токен|секрет|змінні",
     (r"(?:надішли|покажи|виведи|розкрий)[^.\n]{0,40}(?:ключ|парол|токен доступу|секрет|змінні "
     r"середовища)"), "uk"),
    # -- Chinese ----------------------------------------------------------------------------
    ("override", 0.85, SAY, ("忽略|无视|無視|忘记|忘記|忘掉|不要理|不要遵|不再遵|抛开|拋開|放弃|"
     "放棄|跳过|跳過"),
     (r"(?:忽略|无视|無視|忘记|忘記|忘掉|不要理会|不要理會|不要遵循|不要遵守|不再遵循|抛开|拋開|放弃"
     r"|放棄|跳过|跳過)(?:掉)?[^。\n]{0,8}(?:之前|以前|先前|上面|上述|前面|所有|原来|原來|原有|早先|"
     r"此前|系统|系統|你的|你收到的)[^。\n]{0,8}(?:指令|指示|说明|說明|规则|規則|提示|命令|要求|设定|"
     r"設定)"), "zh"),
    ("override", 0.6, SAY, "真正的任务|真正的任務|真实任务|真實任務",
     r"你(?:的)?(?:真正的任务|真正的任務|真实任务|真實任務)", "zh"),
    ("role_hijack", 0.65, SAY, ("你现在是|你現在是|你的新|扮演|假装|假裝|开发者模式|開發者模式|"
     "限制"),
     (r"(?:你现在是|你現在是|你的新(?:角色|身份|任务|任務)|扮演一个|假装你是|假裝你是|开发者模式|"
     r"開發者模式|没有任何限制|沒有任何限制|不受任何限制)"), "zh"),
    ("role_hijack", 0.35, SAY, "从现在|從現在",
     r"(?:从现在开始|從現在開始|从现在起|從現在起)[，,]?\s*你", "zh"),
    ("exfiltration", 0.75, SAY, ("密钥|密鑰|秘钥|api|令牌|密码|密碼|凭证|憑證|凭据|憑據|环境变量|"
     "環境變|系统提示|系統提示|系统指令|系統指令|.env"),
     (r"(?:发送|發送|上传|上傳|打印|输出|輸出|显示|顯示|泄露|洩露|透露|告诉我|告訴我|贴出|貼出|发给|"
     r"發給|复制|複製)[^。\n]{0,16}(?:密钥|密鑰|秘钥|api ?key|令牌|密码|密碼|凭证|憑證|凭据|憑據|"
     r"环境变量|環境變數|環境變量|系统提示|系統提示|系统指令|系統指令|\.env\b)"), "zh"),
    ("destructive", 0.6, SAY, "删除|刪除|清空|抹掉|销毁|銷毀",
     (r"(?:删除|刪除|清空|抹掉|销毁|銷毀)(?:掉)?(?:所有|全部|整个|整個)(?:的)?(?:文件|檔案|测试|測試"
     r"|代码|代碼|仓库|倉庫|数据|數據|提交|分支)"), "zh"),
    ("concealment", 0.6, SAY, "不要|别|別",
     r"(?:不要|别|別)(?:向)?(?:告诉|告訴|通知|提醒|让|讓)(?:用户|用戶|操作员|操作員|任何人|人类|人類)",
     "zh"),
    ("ci_tamper", 0.4, SAY, "禁用|关闭|關閉|跳过|跳過|删除|刪除|注释|註釋",
     (r"(?:禁用|关闭|關閉|跳过|跳過|删除|刪除|注释掉|註釋掉)(?:所有|全部)?(?:的)?(?:测试|測試|检查|"
     r"檢查|校验|校驗|验证|驗證|ci|lint)"), "zh"),
    # -- Japanese ---------------------------------------------------------------------------
    ("override", 0.85, SAY, "指示|命令|指令|ルール|プロンプト|説明|設定|制約",
     (r"(?:以前|前|上記|これまで|先ほど|先程|すべて|全て|元|最初|既存|今まで|システム)の?(?:すべての|"
     r"全ての)?(?:指示|命令|指令|ルール|プロンプト|説明|設定|制約)[^。\n]{0,8}(?:を|は)?(?:すべて|"
     r"全て)?(?:無視|忘れ|破棄|取り消|従わな)"), "ja"),
    ("override", 0.6, SAY, "本当の",
     r"(?:あなたの)?本当の(?:任務|タスク|仕事|目的)", "ja"),
    ("role_hijack", 0.6, SAY, "あなたは|あなたの新しい|モード|制限|ふりをして",
     (r"(?:あなたは今|今からあなたは|これからあなたは|あなたはもう|あなたの新しい(?:役割|任務)|"
     r"(?:開発者|デベロッパー|ゴッド)モード|制限なし|制限のない|一切の制限|ふりをして)"), "ja"),
    ("exfiltration", 0.65, SAY, ("キー|パスワード|トークン|秘密鍵|シークレット|環境変数|認証情報|"
     "システムプロンプト|.env"),
     (r"(?:APIキー|api ?key|APIトークン|パスワード|トークン(?!数)|秘密鍵|"
     r"シークレット|環境変数|認証情報|システムプロンプト|\.env\b)[^。\n]{0,12}(?:を|も)?[^。\n]{0,12}(?:送信|送って|送れ|表示|出力|"
     r"教えて|アップロード|公開|貼り付け|書き出|共有)(?!され|さ[れせ]|しない|しません)"), "ja"),
    ("destructive", 0.6, SAY, "削除|消去|消し",
     (r"(?:すべて|全て|全部)の?(?:ファイル|テスト|コード|リポジトリ|データ|ブランチ|コミット)を?"
     r"(?:削除|消去|消し)|リポジトリ(?:全体)?を(?:削除|消去)"), "ja"),
    ("concealment", 0.6, SAY, "言わない|伝えない|知らせない|報告しない|言うな|伝えるな|内緒",
     (r"(?:ユーザー|利用者|オペレーター|運用者|人間|誰)(?:に|には)[^。\n]{0,6}(?:言わない|伝えない|"
     r"知らせない|報告しない|言うな|伝えるな|内緒)"), "ja"),
    ("ci_tamper", 0.45, SAY, "無効|スキップ|削除|コメントアウト|飛ば",
     (r"(?:テスト|チェック|検証|CI|リンター|lint)を?(?:すべて|全て)?(?:無効に|スキップ|削除|"
     r"コメントアウト|飛ば)(?:して|しろ|せよ|すること)"), "ja"),
    # -- Korean -----------------------------------------------------------------------------
    ("override", 0.85, SAY, "무시|잊어|잊고|따르지",
     (r"(?:이전|앞의|위의|모든|기존|원래|시스템)\s?(?:의\s?)?(?:지시|지침|명령|규칙|지시사항|프롬프트|"
     r"설정)[^.\n]{0,10}(?:을|를|은|는)?\s?(?:모두\s?)?(?:무시|잊어|잊고|따르지)"), "ko"),
    ("role_hijack", 0.55, SAY, "이제|지금부터|이제부터|개발자 모드|제한 없",
     (r"(?:너는 이제|당신은 이제|지금부터 (?:너는|당신은)|이제부터 (?:너는|당신은)|개발자 모드|"
     r"제한 없(?:이|는))"), "ko"),
    ("exfiltration", 0.7, SAY, "키|비밀번호|토큰|환경|자격|프롬프트",
     (r"(?:API\s?키|비밀번호|토큰|비밀 키|환경\s?변수|자격\s?증명|시스템 프롬프트)"
     r"[^.\n]{0,10}(?:를|을)?\s?(?:보내|전송|출력|보여|알려|업로드|공개)"), "ko"),
    ("destructive", 0.6, SAY, "삭제|지워",
     (r"(?:모든|전체)\s?(?:파일|테스트|코드|저장소|데이터)[^.\n]{0,4}(?:를|을)?\s?"
      r"(?:삭제|지워)"), "ko"),
    # -- Dutch, Polish, Turkish, Arabic, Hindi, Vietnamese, Indonesian -------------------------
    ("override", 0.85, SAY, "negeer|vergeet|veronachtza",
     (r"\b(?:negeer|vergeet|veronachtzaam)\b[^.\n]{0,40}\b(?:instructies|opdrachten|regels|"
     r"aanwijzingen)"), "nl"),
    ("role_hijack", 0.5, SAY, "je bent nu|jij bent nu|vanaf nu|u bent nu",
     r"\b(?:je bent nu|jij bent nu|vanaf nu ben je|u bent nu)\b", "nl"),
    ("exfiltration", 0.7, SAY, ("sleutel|wachtwoord|token|geheim|omgevingsvariabel|inlog|"
     "systeemprompt"),
     (r"\b(?:stuur|verstuur|toon|laat zien|print|upload|deel)\b[^.\n]{0,40}\b(?:api-?sleutels?|"
     r"sleutels?|wachtwoorden?|toegangstokens?|geheimen|omgevingsvariabelen|inloggegevens|"
     r"systeemprompt)"), "nl"),
    ("override", 0.85, SAY, "zignoruj|ignoruj|zapomnij|pomiń",
     (r"\b(?:zignoruj|ignoruj|zapomnij|pomiń)\b[^.\n]{0,40}\b(?:instrukcje|instrukcji|polecenia|"
     r"poleceń|zasady|reguły)"), "pl"),
    ("role_hijack", 0.5, SAY, "teraz jesteś|od teraz",
     r"\b(?:teraz jesteś|od teraz jesteś|od teraz)\b", "pl"),
    ("exfiltration", 0.7, SAY, "klucz|hasł|token|sekret|zmienne|uwierzyteln|prompt",
     (r"\b(?:wyślij|pokaż|wypisz|ujawnij|prześlij)\b[^.\n]{0,40}(?:klucz|hasł|token|sekret|"
     r"zmienne środowiskowe|dane uwierzytelniające|prompt systemowy)"), "pl"),
    ("override", 0.85, SAY, "yok say|görmezden|unut|dikkate alma",
     (r"(?:önceki|tüm|bütün|yukarıdaki)\s+(?:talimatları|talimatlar|komutları|kuralları|"
     r"yönergeleri)\s+(?:yok say|görmezden gel|unut|dikkate alma)"), "tr"),
    ("role_hijack", 0.5, SAY, "artık sen|itibaren sen|bundan sonra sen",
     r"\b(?:artık sen|şu andan itibaren sen|bundan sonra sen)\b", "tr"),
    ("exfiltration", 0.7, SAY, "gönder|göster|yazdır|paylaş|yükle",
     (r"(?:api anahtar\w*|şifre\w*|parola\w*|token\w*|gizli anahtar\w*|ortam değişkenler\w*|"
     r"sistem istem\w*)[^.\n]{0,30}(?:gönder|göster|yazdır|paylaş|yükle)(?:y?[iıuü]n(?:[iıuü]z)?)?"
     r"(?!\w)"), "tr"),
    ("override", 0.85, SAY, "تجاهل|انس|لا تتبع|اهمل|أهمل",
     r"(?:تجاهل|انس|لا تتبع|اهمل|أهمل)[^.\n]{0,30}(?:التعليمات|الأوامر|القواعد|التوجيهات)", "ar"),
    ("role_hijack", 0.5, SAY, "أنت الآن|من الآن",
     r"(?:أنت الآن|من الآن فصاعدا|من الآن فصاعداً)", "ar"),
    ("exfiltration", 0.7, SAY, "أرسل|اعرض|اطبع|اكشف|شارك",
     (r"(?:أرسل|اعرض|اطبع|اكشف|شارك)[^.\n]{0,30}(?:المفتاح|المفاتيح|كلمة المرور|كلمات المرور|"
     r"الرمز المميز|متغيرات البيئة|الأسرار|موجه النظام)"), "ar"),
    ("override", 0.85, SAY, "अनदेखा|नज़रअंदाज़|नजरअंदाज|भूल",
     (r"(?:पिछले|पहले के|सभी|ऊपर के)\s+(?:सभी\s+)?(?:निर्देशों|निर्देश|नियमों|आदेशों)\s+(?:को\s+)?"
     r"(?:अनदेखा|नज़रअंदाज़|नजरअंदाज|भूल)"), "hi"),
    ("role_hijack", 0.45, SAY, "अब तुम|अब आप|अब से", r"(?:अब तुम|अब आप|अब से तुम|अब से आप)", "hi"),
    ("exfiltration", 0.7, SAY, "भेज|दिखा|प्रिंट",
     (r"(?:एपीआई कुंजी|API कुंजी|पासवर्ड|टोकन|सीक्रेट|एनवायरनमेंट वेरिएबल|"
      r"सिस्टम प्रॉम्प्ट)[^।\n]{0,30}"
     r"(?:भेजो|भेजें|दिखाओ|दिखाएं|प्रिंट)"), "hi"),
    ("override", 0.85, SAY, "bỏ qua|phớt lờ|quên|đừng làm theo|không tuân theo",
     (r"\b(?:bỏ qua|phớt lờ|quên|đừng làm theo|không tuân theo)\b[^.\n]{0,40}\b(?:hướng dẫn|chỉ "
     r"dẫn|chỉ thị|lệnh|quy tắc)"), "vi"),
    ("role_hijack", 0.5, SAY, "bạn là|từ bây giờ",
     r"\b(?:bây giờ bạn là|từ giờ bạn là|từ bây giờ bạn)", "vi"),
    ("exfiltration", 0.7, SAY, "khóa api|mật khẩu|token|bí mật|biến môi trường|lời nhắc",
     (r"\b(?:gửi|hiển thị|in ra|tiết lộ|chia sẻ)\b[^.\n]{0,40}\b(?:khóa api|mật khẩu|token|bí mật|"
     r"biến môi trường|lời nhắc hệ thống)"), "vi"),
    ("override", 0.85, SAY, "abaikan|lupakan|jangan ikuti",
     r"\b(?:abaikan|lupakan|jangan ikuti)\b[^.\n]{0,40}\b(?:instruksi|perintah|aturan|petunjuk)",
     "id"),
    ("role_hijack", 0.5, SAY, "sekarang kamu|sekarang anda|mulai sekarang",
     r"\b(?:sekarang kamu adalah|sekarang anda adalah|mulai sekarang,? (?:kamu|anda))\b", "id"),
    ("exfiltration", 0.7, SAY, "kunci api|kata sandi|token|rahasia|variabel lingkungan|prompt",
     (r"\b(?:kirim|tampilkan|cetak|bocorkan|bagikan)\b[^.\n]{0,40}\b(?:kunci api|kata sandi|token|"
     r"rahasia|variabel lingkungan|prompt sistem)"), "id"),
)
