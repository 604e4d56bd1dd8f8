// Chinese and English texts. The language follows the browser unless the consumer picks one.

const STORE_KEY = "silktrace.lang";

const TEXTS = {
  zh: {
    "app.title": "丝路溯源 · 扫码验真",
    "app.tagline": "跨境进口商品溯源",
    "lang.switch": "English",
    "lang.switchLabel": "Switch to English",
    "skip": "跳到主要内容",

    "scan.title": "扫描商品上的二维码",
    "scan.hint": "将二维码放进框内，保持稳定，识别后自动查询。",
    "scan.video": "相机取景画面",
    "scan.start": "打开相机",
    "scan.stop": "关闭相机",
    "scan.photo": "选择二维码照片",
    "scan.manual": "或输入二维码下方印刷的链接",
    "scan.manualPlaceholder": "https://…/01/…",
    "scan.check": "查询",
    "scan.location": "发送我的大致位置（精确到城市），帮助发现被复制的二维码",
    "scan.searching": "正在寻找二维码…",
    "scan.starting": "正在打开相机…",
    "scan.readingPhoto": "正在识别照片中的二维码…",
    "scan.noCodeInPhoto": "照片中没有找到二维码。请拍得更近、更清晰，并让整个二维码在画面内。",
    "scan.unreadablePhoto": "无法打开这张图片，请换一张照片。",
    "cam.insecure": "此页面不是通过安全连接（https）打开的，浏览器不允许使用相机。您仍可以拍照或选择照片，或输入链接。",
    "cam.unsupported": "此浏览器不能在网页中使用相机。请选择二维码照片，或输入链接。",
    "cam.denied": "相机权限被拒绝。您可以在浏览器设置中允许本站使用相机，或选择一张二维码照片，或输入链接。",
    "cam.not_found": "没有找到可用的相机。请选择二维码照片，或输入链接。",
    "cam.busy": "相机正被其他应用使用。请关闭其他应用后重试，或选择二维码照片。",
    "cam.failed": "相机无法启动。请选择二维码照片，或输入链接。",
    "cam.off": "相机已关闭。",

    "code.notSilkTrace": "这不是丝路溯源的二维码",
    "code.notSilkTraceBody": "扫描到的内容不是商品溯源链接，无法查询来源。请扫描商品标签上印有“丝路溯源”字样的二维码。",
    "code.otherGs1": "这是其他系统的 GS1 商品码",
    "code.otherGs1Body": "该二维码没有丝路溯源的签名，无法在本系统核验真伪与来源。",
    "code.content": "扫描内容：",
    "code.unit": "这是物流单元（托盘/箱）的编码，不是单件商品。",

    "result.title": "查询结果",
    "result.again": "扫描下一个",
    "result.item": "商品",
    "result.code": "商品编码（GTIN）",
    "result.lot": "批次",
    "result.serial": "序列号",
    "result.brand": "品牌",
    "result.origin": "原产地",
    "result.production": "生产日期",
    "result.expiry": "保质期至",
    "result.expired": "已过期",
    "result.owner": "进口商 / 品牌方",
    "result.now": "当前状态",
    "result.responsible": "当前责任方",
    "result.pending": "待接收方",
    "result.lastResponsible": "最后责任方",
    "result.unnamed": "（未命名商品）",

    "badge.genuine": "正品码",
    "badge.genuine.valid": "二维码签名有效。签发方：{issuer}。",
    "badge.genuine.validNoIssuer": "二维码签名有效。",
    "badge.notGenuine": "非正品码",
    "badge.sig.invalid": "二维码的签名不匹配：这个码可能是伪造的，或被改动过。",
    "badge.sig.missing": "二维码没有签名：真正的丝路溯源标签都带有签名。",
    "badge.sig.unknown_key": "签名来自未知的签发方。",
    "badge.sig.revoked_key": "签发该码的密钥已被吊销。",
    "badge.sig.wrong_issuer": "签名方不是登记该批次的企业。",
    "badge.sig.unregistered": "签名有效，但该商品没有登记。",
    "badge.unchecked": "无法验证签名",
    "badge.sig.unavailable": "手机上还没有签发方公钥（首次使用需联网一次）。",
    "badge.checking": "正在验证签名…",
    "badge.checkedHere": "已在您的手机上离线验证。",

    "badge.verified": "已与区块链核对",
    "badge.verified.body": "记录已与区块链上的数据核对一致（区块 {block}）。",
    "badge.verifiedOther": "以下是该编号正品的链上记录",
    "badge.verifiedOther.body": "这些记录已与区块链核对（区块 {block}），但它们属于以此编号登记的正品，不能证明您手中的商品就是它。",
    "badge.notVerified": "未能与区块链核对",
    "badge.notVerified.body": "暂时无法连接区块链，以下记录来自丝路溯源的数据库。",
    "badge.noHistory": "未能加载记录",
    "badge.noHistory.body": "历史记录没有加载，无法与区块链核对。",
    "badge.loading": "正在加载记录…",

    "badge.recalled": "已召回",
    "badge.notRecalled": "未召回",
    "badge.notRecalled.body": "该商品目前没有召回。",
    "badge.delivered": "已签收",

    "recall.title": "该商品已被召回",
    "recall.reason": "原因：",
    "recall.noReason": "召回方没有公开原因说明。",
    "recall.failedInspection": "{who}于{when}检验不合格。",
    "recall.by": "发起方：{who}，{when}",
    "recall.todo": "请您这样做：",
    "recall.todo1": "立即停止食用或使用该商品，妥善保存包装和购买凭证。",
    "recall.todo2": "联系卖家或进口商{importer}办理退货、换货或退款。",
    "recall.todo3": "如有疑问或已出现不适，请拨打市场监管投诉举报热线 12315，并及时就医。",

    "clone.title": "注意：这个码可能被复制",
    "clone.scanned_after_delivery": "该商品已签收后，仍在其他地方被扫描。",
    "clone.impossible_travel": "同一个码短时间内在相距很远的地方被扫描。",
    "clone.scanned_too_often": "这个码被扫描的次数异常多。",
    "clone.todo": "如果您不是在签收后自己扫描，请向卖家核实，并拨打 12315 举报。",

    "fake.title": "请不要相信这件商品的二维码",
    "fake.body": "二维码没有通过签名验证，可能是假冒商品。",
    "fake.todo1": "在核实之前，不要食用或使用该商品。",
    "fake.todo2": "保留包装和购买凭证，联系卖家，并拨打 12315 举报。",
    "unknown.title": "查无此商品",
    "unknown.body": "丝路溯源没有这个商品的登记记录。如果二维码签名也无效，很可能是假冒商品。",
    "lotOnly.body": "这是批次码，以下显示整批商品的记录。",

    "load.progress": "正在加载溯源记录…",
    "load.slow": "网络较慢，仍在加载…（已等待 {s} 秒）",
    "load.cancel": "取消",
    "load.retry": "重试",
    "load.offline": "您目前处于离线状态",
    "load.offline.body": "二维码签名已在手机上验证，但溯源记录无法加载。联网后点击“重试”。",
    "load.failed": "溯源记录无法加载",
    "load.failed.body": "服务器暂时无法访问（{why}）。二维码签名已在手机上验证。",
    "load.timeout": "等待超时",
    "load.cancelled": "已取消加载。",

    "timeline.title": "流转记录",
    "timeline.empty": "还没有流转记录。",
    "timeline.by": "责任方",
    "timeline.place": "地点",
    "timeline.to": "交接给",
    "timeline.from": "接收自",
    "timeline.docs": "凭证：",
    "timeline.docPrivate": "仅存哈希，不公开",
    "timeline.via.lot": "按批次记录",
    "timeline.via.unit": "按包装单元 {unit} 记录",
    "timeline.authority": "监管",
    "timeline.pass": "检验合格",
    "timeline.fail": "检验不合格",
    "timeline.chain": "链上交易",
    "timeline.block": "区块 {n}",

    "action.register": "登记",
    "action.split": "分拆",
    "action.event": "记录",
    "action.dispatch": "交接发出",
    "action.accept": "接收",
    "action.reject": "拒收",
    "action.cancel": "取消交接",
    "action.pack": "装入包装单元",
    "action.unpack": "从包装单元取出",
    "action.recall": "召回",
    "action.lift_recall": "解除召回",

    "route.title": "运输路线",
    "route.desc": "商品经过的地点，按时间顺序（编号与下方列表对应）。",
    "route.none": "记录中没有地点信息。",

    "tech.title": "技术详情（可自行到区块链核对）",
    "tech.uri": "数字链接",
    "tech.path": "规范路径",
    "tech.subject": "链上主体 ID（keccak256）",
    "tech.kid": "签名密钥",
    "tech.block": "数据同步到区块",

    "net.offline": "离线",
    "footer": "丝路溯源：进口商品质量责任追溯。签名在您的手机上验证，记录锚定在区块链上。",
  },
  en: {
    "app.title": "SilkTrace · Scan to verify",
    "app.tagline": "Traceability of cross-border imports",
    "lang.switch": "中文",
    "lang.switchLabel": "切换到中文",
    "skip": "Skip to main content",

    "scan.title": "Scan the QR code on your item",
    "scan.hint": "Hold the code inside the frame. It is read and checked automatically.",
    "scan.video": "Camera view",
    "scan.start": "Start camera",
    "scan.stop": "Stop camera",
    "scan.photo": "Pick a photo of the code",
    "scan.manual": "Or type the link printed under the code",
    "scan.manualPlaceholder": "https://…/01/…",
    "scan.check": "Check",
    "scan.location": "Send my approximate location (city level) to help detect copied codes",
    "scan.searching": "Looking for a QR code…",
    "scan.starting": "Starting the camera…",
    "scan.readingPhoto": "Reading the code in the photo…",
    "scan.noCodeInPhoto": "No QR code found in this photo. Take it closer and sharper, with the whole code in the picture.",
    "scan.unreadablePhoto": "This image cannot be opened. Please pick another photo.",
    "cam.insecure": "This page was not opened over a secure (https) connection, so the browser does not allow the camera. You can still take or pick a photo, or type the link.",
    "cam.unsupported": "This browser cannot use the camera in a web page. Pick a photo of the code or type its link.",
    "cam.denied": "Camera access was refused. Allow the camera for this site in your browser settings, pick a photo of the code, or type its link.",
    "cam.not_found": "No camera was found. Pick a photo of the code or type its link.",
    "cam.busy": "The camera is in use by another app. Close it and try again, or pick a photo of the code.",
    "cam.failed": "The camera could not start. Pick a photo of the code or type its link.",
    "cam.off": "The camera is off.",

    "code.notSilkTrace": "This is not a SilkTrace code",
    "code.notSilkTraceBody": "What was scanned is not a product trace link, so its origin cannot be looked up. Scan the QR code on the label marked SilkTrace.",
    "code.otherGs1": "This is a GS1 product code from another system",
    "code.otherGs1Body": "It carries no SilkTrace signature, so SilkTrace cannot check whether it is genuine or where it came from.",
    "code.content": "Scanned content:",
    "code.unit": "This is the code of a logistic unit (pallet or case), not of a single item.",

    "result.title": "Result",
    "result.again": "Scan another code",
    "result.item": "Item",
    "result.code": "Product code (GTIN)",
    "result.lot": "Lot",
    "result.serial": "Serial number",
    "result.brand": "Brand",
    "result.origin": "Country of origin",
    "result.production": "Production date",
    "result.expiry": "Best before",
    "result.expired": "expired",
    "result.owner": "Importer / brand owner",
    "result.now": "Status now",
    "result.responsible": "Responsible now",
    "result.pending": "Waiting to be accepted by",
    "result.lastResponsible": "Last responsible",
    "result.unnamed": "(unnamed product)",

    "badge.genuine": "Genuine code",
    "badge.genuine.valid": "The code's signature is valid. Issuer: {issuer}",
    "badge.genuine.validNoIssuer": "The code's signature is valid.",
    "badge.notGenuine": "Not genuine",
    "badge.sig.invalid": "The code's signature does not match: the code may be forged or altered.",
    "badge.sig.missing": "The code has no signature: genuine SilkTrace labels are always signed.",
    "badge.sig.unknown_key": "The signature comes from an unknown issuer.",
    "badge.sig.revoked_key": "The key that signed this code has been revoked.",
    "badge.sig.wrong_issuer": "The signer is not the enterprise that registered this lot.",
    "badge.sig.unregistered": "The signature is valid, but the item was never registered.",
    "badge.unchecked": "Signature not checked",
    "badge.sig.unavailable": "The issuers' keys are not on this phone yet (go online once).",
    "badge.checking": "Checking the signature…",
    "badge.checkedHere": "Checked offline on your phone.",

    "badge.verified": "Verified on the blockchain",
    "badge.verified.body": "The records were checked against the blockchain (block {block}).",
    "badge.verifiedOther": "Below: the chain records of the genuine item with this number",
    "badge.verifiedOther.body": "They were checked against the blockchain (block {block}), but they belong to the item registered under this number and do not prove that yours is that item.",
    "badge.notVerified": "Not verified on the blockchain",
    "badge.notVerified.body": "The blockchain could not be reached; the records below come from SilkTrace's database.",
    "badge.noHistory": "History not loaded",
    "badge.noHistory.body": "The history did not load, so it could not be checked against the blockchain.",
    "badge.loading": "Loading the history…",

    "badge.recalled": "Recalled",
    "badge.notRecalled": "Not recalled",
    "badge.notRecalled.body": "This item is not under recall.",
    "badge.delivered": "Delivered",

    "recall.title": "This item has been recalled",
    "recall.reason": "Reason: ",
    "recall.noReason": "The recalling party has not published a reason.",
    "recall.failedInspection": "Failed inspection by {who} on {when}.",
    "recall.by": "Recalled by {who}, {when}",
    "recall.todo": "What to do:",
    "recall.todo1": "Stop eating or using this product now. Keep the package and your receipt.",
    "recall.todo2": "Contact the seller or the importer{importer} for a return, exchange or refund.",
    "recall.todo3": "For questions, or if anyone feels unwell, call the market supervision hotline 12315 and see a doctor.",

    "clone.title": "Warning: this code may have been copied",
    "clone.scanned_after_delivery": "The item was delivered, and its code is still being scanned elsewhere.",
    "clone.impossible_travel": "The same code was scanned far apart within a short time.",
    "clone.scanned_too_often": "This code has been scanned unusually often.",
    "clone.todo": "If you did not scan it yourself after delivery, check with the seller and report it on 12315.",

    "fake.title": "Do not trust this item's code",
    "fake.body": "The code failed the signature check: the item may be counterfeit.",
    "fake.todo1": "Do not eat or use the product until this is cleared up.",
    "fake.todo2": "Keep the package and your receipt, contact the seller and report it on 12315.",
    "unknown.title": "Unknown item",
    "unknown.body": "SilkTrace has no record of this item. If the code's signature is not valid either, it is most likely counterfeit.",
    "lotOnly.body": "This is a lot code: the records of the whole lot are shown.",

    "load.progress": "Loading the trace…",
    "load.slow": "The network is slow, still loading… ({s} s)",
    "load.cancel": "Cancel",
    "load.retry": "Try again",
    "load.offline": "You are offline",
    "load.offline.body": "The code's signature was checked on your phone, but the history could not be loaded. Go online and press “Try again”.",
    "load.failed": "The history could not be loaded",
    "load.failed.body": "The server cannot be reached right now ({why}). The code's signature was checked on your phone.",
    "load.timeout": "timed out",
    "load.cancelled": "Loading cancelled.",

    "timeline.title": "Journey",
    "timeline.empty": "No steps recorded yet.",
    "timeline.by": "Responsible",
    "timeline.place": "Place",
    "timeline.to": "Handed to",
    "timeline.from": "Accepted from",
    "timeline.docs": "Documents: ",
    "timeline.docPrivate": "hash only, not public",
    "timeline.via.lot": "recorded for the whole lot",
    "timeline.via.unit": "recorded for the package {unit}",
    "timeline.authority": "Authority",
    "timeline.pass": "Passed inspection",
    "timeline.fail": "Failed inspection",
    "timeline.chain": "Chain transaction",
    "timeline.block": "block {n}",

    "action.register": "Registered",
    "action.split": "Split",
    "action.event": "Recorded",
    "action.dispatch": "Handed over",
    "action.accept": "Accepted",
    "action.reject": "Refused",
    "action.cancel": "Handover cancelled",
    "action.pack": "Packed",
    "action.unpack": "Unpacked",
    "action.recall": "Recalled",
    "action.lift_recall": "Recall lifted",

    "route.title": "Route",
    "route.desc": "The places the item went through, in order (numbers match the list).",
    "route.none": "No places were recorded.",

    "tech.title": "Technical details (check them on the blockchain yourself)",
    "tech.uri": "Digital Link",
    "tech.path": "Canonical path",
    "tech.subject": "On-chain subject id (keccak256)",
    "tech.kid": "Signing key",
    "tech.block": "Data synchronised up to block",

    "net.offline": "Offline",
    "footer": "SilkTrace: quality responsibility for imported goods. Signatures are checked on your phone; records are anchored on a blockchain.",
  },
};

export const LANGS = ["zh", "en"];

function initialLang() {
  try {
    const stored = localStorage.getItem(STORE_KEY);
    if (LANGS.includes(stored)) return stored;
  } catch {
    /* storage blocked */
  }
  const prefs = navigator.languages && navigator.languages.length
    ? navigator.languages
    : [navigator.language || "en"];
  for (const pref of prefs) {
    const base = String(pref).toLowerCase().split("-")[0];
    if (LANGS.includes(base)) return base;
  }
  return "en";
}

let lang = initialLang();
const listeners = new Set();

export function getLang() {
  return lang;
}

export function setLang(next, { remember = true } = {}) {
  if (!LANGS.includes(next)) return;
  lang = next;
  if (remember) {
    try {
      localStorage.setItem(STORE_KEY, next);
    } catch {
      /* storage blocked */
    }
  }
  applyStatic();
  for (const fn of listeners) fn(lang);
}

export function onLangChange(fn) {
  listeners.add(fn);
}

/** A text in the current language, with {name} placeholders filled from vars. */
export function t(key, vars = {}) {
  const text = TEXTS[lang][key] ?? TEXTS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : ""));
}

/** Pick a Localized {zh, en} value in the current language. */
export function loc(value) {
  if (value == null) return "";
  if (typeof value === "string") return value;
  return value[lang] || value.en || value.zh || "";
}

/** Fill every element with data-i18n (text), data-i18n-label (aria-label), data-i18n-ph. */
export function applyStatic(root = document) {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t("app.title");
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  }
  for (const el of root.querySelectorAll("[data-i18n-ph]")) {
    el.setAttribute("placeholder", t(el.dataset.i18nPh));
  }
}

export function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(lang === "zh" ? "zh-CN" : "en-GB", {
    dateStyle: "medium",
    timeStyle: "short",
  }).format(date);
}

export function formatDate(isoDate) {
  if (!isoDate) return "";
  const date = new Date(isoDate.length === 10 ? isoDate + "T00:00:00Z" : isoDate);
  if (Number.isNaN(date.getTime())) return isoDate;
  return new Intl.DateTimeFormat(lang === "zh" ? "zh-CN" : "en-GB", {
    dateStyle: "long",
    timeZone: "UTC",
  }).format(date);
}

export function countryName(code) {
  if (!code) return "";
  try {
    const names = new Intl.DisplayNames([lang === "zh" ? "zh-CN" : "en"], { type: "region" });
    return names.of(code.toUpperCase()) || code;
  } catch {
    return code;
  }
}
