"""Authority claimed in plain words and secrets moved into the work, in other languages (pure
data): the counterparts of ``rules_claims`` for the languages ``lexicon`` covers.

A claim of approval ("the operator approved skipping the tests") counts when an action an
injection wants (skip, delete, disable, merge, push) is in the same sentence; a secret counts
when it is to be put into a file, a commit, a branch or a summary. Rows as in ``rules_shell``.
"""

from __future__ import annotations

from swarmtui.engine.guard.screening.rules_shell import SECRET

SAY, CMD = "say", "cmd"

_SEC = (SECRET + r"|api[- ]?(?:schlüssel|clave|chave|chiave|clé|sleutel|anahtar\w*|klucz)|"
        r"schlüssel|clave|chave|chiave|clé|jeton|sleutel|klucz|mot de passe|passwort|"
        r"contraseña|senha|hasło|şifre|"
        r"wachtwoord|token|密钥|令牌|密码|パスワード|トークン|秘密鍵|비밀번호|토큰|пароль|ключ\w*|"
        r"токен\w*|umgebungsvariablen|variables? de entorno|variables? d'environnement|"
        r"vari[áa]veis de ambiente|variabili d'ambiente|переменн\w* окружения|环境变量|環境変数|"
        r"환경 ?변수|omgevingsvariabelen|zmienne środowiskowe|ortam değişkenleri")

ROWS: tuple[tuple[str, float, str, str, str, str], ...] = (
    ("override", 0.6, SAY, "operador|responsable|administrador|mantenedor|jefe",
     (r"\b(?:operador|responsable|administrador|mantenedor(?:es)?|jefe)\b[^.\n]{0,40}\b(?:"
      r"aprob[óo]|autoriz[óo]|permiti[óo]|acept[óo]|confirm[óo]|decidi[óo])\b[^.\n]{0,60}\b(?:"
      r"omitir|saltar|sin\b|desactivar|borrar|eliminar|merge|push|fusionar|ignorar)"), "es"),
    ("override", 0.65, SAY, "lo que te|todo lo que",
     (r"\b(?:lo que|todo lo que)\s+te\s+(?:dijeron|indicaron|pidieron)\b[^.\n]{0,60}\b(?:era|es|"
      r"fue)\s+(?:un error|incorrecto|obsoleto|un borrador)"), "es"),
    ("override", 0.6, SAY, "opérateur|operateur|responsable|administrateur|mainteneur",
     (r"\b(?:l'|le |les )?(?:op[ée]rateur|responsable|administrateur|mainteneur)s?\b[^.\n]{0,40}"
      r"\b(?:a|ont)\s+(?:\w+\s+)?(?:approuv[ée]|autoris[ée]|accept[ée]|valid[ée]|confirm[ée])"
      r"[^.\n]{0,60}\b(?:saute\w*|ignore\w*|d[ée]sactive\w*|supprime\w*|sans|merge|pousse\w*|"
      r"push|fusionne\w*)"), "fr"),
    ("override", 0.65, SAY, "ce qu",
     (r"\bce qu'on (?:vous|t)'?\s*a (?:dit|donn[ée]|demand[ée])\b[^.\n]{0,60}\b(?:[ée]tait|est)"
      r"\s+(?:une erreur|faux|obsol[eè]te|un brouillon)"), "fr"),
    ("override", 0.6, SAY, "operador|responsável|responsavel|administrador|mantenedor",
     (r"\b(?:operador|respons[áa]vel|administrador|mantenedor)\b[^.\n]{0,40}\b(?:aprovou|"
      r"autorizou|permitiu|confirmou|aceitou)\b[^.\n]{0,60}\b(?:pular|ignorar|sem\b|desativar|"
      r"apagar|excluir|push|merge)"), "pt"),
    ("override", 0.55, SAY, "betreiber|operator|admin|maintainer|verantwortlich",
     (r"\b(?:betreiber|operator|admin\w*|maintainer|verantwortliche\w*)\b[^.\n]{0,40}\b(?:hat|"
      r"haben)\s+(?:\w+\s+)?(?:zugestimmt|genehmigt|erlaubt|freigegeben|best[äa]tigt)"), "de"),
    ("override", 0.55, SAY, "operatore|responsabile|amministratore|maintainer",
     (r"\b(?:l'|il )?(?:operatore|responsabile|amministratore|maintainer)\b[^.\n]{0,40}\b(?:ha\s+)?"
      r"(?:approvato|autorizzato|permesso|confermato|accettato)"), "it"),
    ("override", 0.6, SAY, "операт|админ|мейнт|владел|руковод",
     (r"(?:оператор|администратор|мейнтейнер|владелец|руководител)\w*[^.\n]{0,40}(?:разрешил|"
      r"одобрил|согласовал|подтвердил|позволил)\w*[^.\n]{0,60}(?:пропуст|отключ|удал|пуш|"
      r"смерж|слей|без\s)"), "ru"),
    ("override", 0.6, SAY, "运营|操作员|管理员|维护者|负责人",
     (r"(?:运营者|运营方|操作员|管理员|维护者|负责人)[^。\n]{0,20}(?:同意|批准|允许|确认)"
      r"[^。\n]{0,30}(?:跳过|删除|禁用|合并|推送|不用|无需)"), "zh"),
    ("override", 0.6, SAY, "オペレーター|管理者|メンテナ|責任者",
     (r"(?:オペレーター|管理者|メンテナ|責任者)[^。\n]{0,40}(?:省略|スキップ|削除|無効|マージ|"
      r"プッシュ)[^。\n]{0,20}(?:承認|許可|了承|同意)|(?:オペレーター|管理者|メンテナ|責任者)"
      r"[^。\n]{0,20}(?:承認|許可|了承|同意)[^。\n]{0,40}(?:省略|スキップ|削除|無効|マージ|"
      r"プッシュ)"), "ja"),
    ("override", 0.6, SAY, "운영자|관리자|메인테이너|책임자",
     (r"(?:운영자|관리자|메인테이너|책임자)[^.\n]{0,40}(?:생략|건너뛰|삭제|비활성|병합|푸시)"
      r"[^.\n]{0,20}(?:승인|허락|허용|동의)"), "ko"),
    ("override", 0.55, SAY, "operator|beheerder|maintainer",
     (r"\b(?:operator|beheerder|maintainer)\b[^.\n]{0,40}\b(?:heeft|hebben)\s+(?:\w+\s+)?"
      r"(?:goedgekeurd|toegestaan|bevestigd)"), "nl"),
    ("override", 0.55, SAY, "operatör|operator|yönetici|sorumlu",
     r"\b(?:operatör|yönetici|sorumlu)\w*\b[^.\n]{0,40}(?:onayladı|izin verdi|kabul etti)", "tr"),
    ("override", 0.55, SAY, "operator|administrator|opiekun",
     (r"\b(?:operator|administrator|opiekun)\w*\b[^.\n]{0,40}\b(?:zgodził|zatwierdził|"
      r"pozwolił|zaakceptował)"), "pl"),
    # -- secrets into files, commits, branch names ---------------------------------------------
    ("exfiltration", 0.65, CMD, ("key|token|secret|password|.ssh|id_rsa|.env|credential|"
     "schlüssel|clave|chave|chiave|clé|jeton|sleutel|klucz|mot de passe|passwort|contraseña|"
     "senha|hasło|şifre|"
     "wachtwoord|密钥|令牌|密码|パスワード|トークン|秘密鍵|비밀번호|토큰|пароль|ключ|токен|api|"
     "umgebungsvariablen|entorno|environnement|ambiente|окружения|环境变量|環境変数|환경|"
     "omgevingsvariabelen|środowiskowe|ortam"),
     (rf"(?:{_SEC})[^.\n]{{0,60}}\b(?:dans|en|in|nel|nella|na|no|em|в|para|al|à|into|içine|"
      r"naar)\b[^.\n]{0,30}(?:readme|fichier|datei|archivo|arquivo|file|commit|branche|branch|"
      r"rama|ramo|nome|nom|nombre|mensaje|message|nachricht|messaggio|mensagem|docs?|"
      r"коммит|файл|ветк|сообщени|plik|dosya|bestand)"), "mul"),
    ("exfiltration", 0.65, CMD, (".env|.ssh|id_rsa|key|token|密钥|令牌|密码|パスワード|トークン|"
                                 "비밀번호|토큰|环境变量|環境変数|환경"),
     (rf"(?:{_SEC})[^。\n]{{0,30}}(?:写进|写入|复制到|放进|加到|放到|粘贴到|に書|に入れ|に追加|"
      r"をコミット|에 넣|에 추가|을 커밋|를 커밋)[^。\n]{0,20}(?:提交|分支|readme|文件|注释|"
      r"コミット|ブランチ|ファイル|커밋|브랜치|파일)?"), "mul"),
    # -- more languages: permission claimed, then an action an injection wants -----------------
    ("override", 0.55, SAY, "eigenaar|beheerder|toestemming",
     (r"\b(?:eigenaar|beheerder|operator|maintainer)\b[^.\n]{0,40}\b(?:toestemming gegeven|"
      r"goedgekeurd|toegestaan)[^.\n]{0,60}\b(?:sla\b|overslaan|merge|push|verwijder|zonder)"),
     "nl"),
    ("override", 0.55, SAY, "właściciel|administrator|operator|opiekun",
     (r"\b(?:właściciel|administrator|operator|opiekun)\w*\b[^.\n]{0,30}(?:się zgodził|"
      r"zgodził|pozwolił|zatwierdził)[^.\n]{0,60}\b(?:pomiń|scal|wypchnij|usuń|wyłącz|bez)"),
     "pl"),
    ("override", 0.55, SAY, "pemilik|operator|admin|pengelola",
     (r"\b(?:pemilik|operator|admin|pengelola)\w*\b[^.\n]{0,30}\b(?:sudah |telah )?"
      r"(?:mengizinkan|menyetujui|setuju)[^.\n]{0,60}\b(?:lewati|gabungkan|matikan|hapus|tanpa|"
      r"push)"), "id"),
    ("override", 0.55, SAY, "quản trị|chủ sở hữu|người vận hành",
     (r"(?:quản trị viên|chủ sở hữu|người vận hành)[^.\n]{0,30}(?:đã )?(?:đồng ý|cho phép|"
      r"phê duyệt)[^.\n]{0,60}(?:bỏ qua|hợp nhất|xóa|tắt|đẩy)"), "vi"),
    ("override", 0.55, SAY, "وافق|سمح|المسؤول|المشرف",
     r"(?:وافق|سمح|أذن)[^.\n]{0,30}(?:المسؤول|المشرف|المالك)[^.\n]{0,60}(?:تخط|ادمج|احذف|عطل|بدون)",
     "ar"),
    ("override", 0.55, SAY, "अनुमति|स्वीकृति",
     r"(?:अनुमति|स्वीकृति|मंजूरी)[^।\n]{0,30}(?:दे दी|दी है|दी)[^।\n]{0,60}(?:छोड़|मर्ज|पुश|हटा|बंद)",
     "hi"),
    ("override", 0.55, SAY, "власник|оператор|адмін",
     (r"(?:власник|оператор|адміністратор)\w*[^.\n]{0,30}(?:дозволив|схвалив|погодив)[^.\n]{0,60}"
      r"(?:пропуст|злий|видал|вимкн|без\s)"), "uk"),
    ("override", 0.55, SAY, "yönetici|sahibi|operatör",
     (r"(?:yönetici|sahibi|operatör)\w*\s+(?:onayladı|izin verdi)[^.\n]{0,60}(?:atla|birleştir|"
      r"sil|kapat|olmadan)"), "tr"),
    ("override", 0.6, SAY, "운영자|관리자|메인테이너|책임자",
     (r"(?:운영자|관리자|메인테이너|책임자)[^.\n]{0,20}(?:승인|허락|허용|동의)[^.\n]{0,40}"
      r"(?:생략|건너뛰|삭제|비활성|병합|푸시|없이)"), "ko"),
    ("override", 0.55, SAY, "responsable|propietario|dueño",
     (r"\b(?:el |la )?(?:responsable|propietario|dueño)\b[^.\n]{0,30}\b(?:ya )?(?:dio permiso|"
      r"dio el visto bueno|aprob[óo]|autoriz[óo])[^.\n]{0,60}\b(?:omite|salta|fusiona|sube|borra|"
      r"desactiva|sin\b)"), "es"),
    ("exfiltration", 0.65, CMD, "rama|branche|zweig|ramo",
     (r"\b(?:rama|branche|zweig|branch|ramo)\b[^.\n]{0,40}\b(?:valor|valeur|wert|value)\b[^.\n]"
      rf"{{0,20}}(?:{_SEC})"), "mul"),
)
