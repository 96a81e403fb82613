/* Chat page of the IOM/OIM assistant: page language, FR/EN/ES switch, and the rasa-webchat widget.
 *
 * The page language (?lang=fr|en|es, else the last choice, else the browser's) is sent to the bot
 * with every message as metadata ({"language": "fr"|"en"|"es"} in the widget's customData), so the
 * greeting and first answers follow the page. Switching language reloads the page; the
 * conversation continues (the widget keeps its session id and history in localStorage, and the
 * server keeps the conversation under that id).
 */
(function () {
  "use strict";

  var TEXT = {
    fr: {
      pageTitle: "OIM – Assistant virtuel",
      description: "Posez vos questions sur l'Organisation internationale pour les migrations (OIM).",
      skip: "Aller à la conversation",
      brand: "Organisation internationale pour les migrations",
      mark: "OIM",
      title: "Assistant virtuel de l'OIM",
      intro: "Posez vos questions sur l'OIM, l'Agence des Nations Unies pour les migrations : qui elle est, sa direction, ses États membres, son travail. Les réponses s'appuient sur des sources publiques, indiquées en lien.",
      note: "Assistant automatique : ne saisissez pas de données personnelles. Pour une aide individuelle, contactez le bureau de l'OIM de votre pays.",
      chatTitle: "Conversation avec l'assistant",
      noscript: "La conversation nécessite JavaScript.",
      footer: "Informations tirées du site officiel de l'OIM :",
      site: "https://www.iom.int/fr",
      widgetTitle: "Assistant OIM",
      widgetSubtitle: "Réponses en français, en anglais ou en espagnol",
      hint: "Posez votre question…",
      inputLabel: "Votre message",
      send: "Envoyer",
      log: "Messages de la conversation",
      unavailable: "L'assistant est momentanément indisponible. Réessayez dans un instant."
    },
    en: {
      pageTitle: "IOM – Virtual assistant",
      description: "Ask your questions about the International Organization for Migration (IOM).",
      skip: "Skip to the conversation",
      brand: "International Organization for Migration",
      mark: "IOM",
      title: "IOM virtual assistant",
      intro: "Ask your questions about IOM, the UN Migration Agency: who it is, its leadership, its Member States, its work. Answers are based on public sources, shown as links.",
      note: "Automated assistant: please do not enter personal data. For individual help, contact the IOM office in your country.",
      chatTitle: "Conversation with the assistant",
      noscript: "The conversation needs JavaScript.",
      footer: "Information from IOM's official website:",
      site: "https://www.iom.int",
      widgetTitle: "IOM assistant",
      widgetSubtitle: "Answers in English, French or Spanish",
      hint: "Ask your question…",
      inputLabel: "Your message",
      send: "Send",
      log: "Conversation messages",
      unavailable: "The assistant is temporarily unavailable. Please try again in a moment."
    },
    es: {
      pageTitle: "OIM – Asistente virtual",
      description: "Haga sus preguntas sobre la Organización Internacional para las Migraciones (OIM).",
      skip: "Ir a la conversación",
      brand: "Organización Internacional para las Migraciones",
      mark: "OIM",
      title: "Asistente virtual de la OIM",
      intro: "Haga sus preguntas sobre la OIM, el Organismo de las Naciones Unidas para la Migración: quién es, su dirección, sus Estados Miembros, su trabajo. Las respuestas se basan en fuentes públicas, indicadas con un enlace.",
      note: "Asistente automático: no escriba datos personales. Para recibir ayuda individual, contacte con la oficina de la OIM de su país.",
      chatTitle: "Conversación con el asistente",
      noscript: "La conversación necesita JavaScript.",
      footer: "Información tomada del sitio oficial de la OIM:",
      site: "https://www.iom.int/es",
      widgetTitle: "Asistente OIM",
      widgetSubtitle: "Respuestas en español, francés o inglés",
      hint: "Escriba su pregunta…",
      inputLabel: "Su mensaje",
      send: "Enviar",
      log: "Mensajes de la conversación",
      unavailable: "El asistente no está disponible en este momento. Vuelva a intentarlo en un instante."
    }
  };
  var LANGUAGES = Object.keys(TEXT);
  var STORE_KEY = "iom-chat-lang";

  function pageLanguage() {
    var asked = new URLSearchParams(window.location.search).get("lang");
    if (LANGUAGES.indexOf(asked) >= 0) {
      try { window.localStorage.setItem(STORE_KEY, asked); } catch (e) { /* private mode */ }
      return asked;
    }
    var stored = null;
    try { stored = window.localStorage.getItem(STORE_KEY); } catch (e) { /* private mode */ }
    if (LANGUAGES.indexOf(stored) >= 0) return stored;
    var browser = (navigator.language || "fr").toLowerCase().slice(0, 2);
    return LANGUAGES.indexOf(browser) >= 0 ? browser : "fr";
  }

  function translatePage(lang) {
    var t = TEXT[lang];
    document.documentElement.lang = lang;
    document.title = t.pageTitle;
    document.querySelector('meta[name="description"]').setAttribute("content", t.description);
    document.querySelectorAll("[data-i18n]").forEach(function (el) {
      el.textContent = t[el.getAttribute("data-i18n")];
    });
    document.querySelector(".brand-mark").textContent = t.mark;
    var site = document.getElementById("official-site");
    site.href = t.site;
    document.querySelectorAll(".lang-switch a").forEach(function (a) {
      if (a.getAttribute("data-lang") === lang) a.setAttribute("aria-current", "true");
      else a.removeAttribute("aria-current");
    });
  }

  function socketUrl(config) {
    if (config.socketUrl) return config.socketUrl;
    var port = config.rasaPort || 5005;
    return window.location.protocol + "//" + window.location.hostname + ":" + port;
  }

  // rasa-webchat renders quick replies as <div>s: make them real buttons for keyboards and
  // screen readers, and name the input and send button.
  function improveAccessibility(root, t) {
    root.querySelectorAll(".rw-reply:not(a)").forEach(function (el) {
      if (el.getAttribute("role") === "button") return;
      el.setAttribute("role", "button");
      el.setAttribute("tabindex", "0");
      el.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          el.click();
        }
      });
    });
    var input = root.querySelector(".rw-new-message");
    if (input && !input.getAttribute("aria-label")) input.setAttribute("aria-label", t.inputLabel);
    var send = root.querySelector(".rw-send");
    if (send && !send.getAttribute("aria-label")) send.setAttribute("aria-label", t.send);
    var log = root.querySelector(".rw-messages-container");
    if (log && !log.getAttribute("role")) {
      log.setAttribute("role", "log");
      log.setAttribute("aria-live", "polite");
      log.setAttribute("aria-label", t.log);
      log.setAttribute("tabindex", "0");
    }
    root.querySelectorAll(".rw-response a[href]").forEach(function (a) {
      a.setAttribute("rel", "noopener noreferrer");
    });
  }

  function start() {
    var lang = pageLanguage();
    var t = TEXT[lang];
    translatePage(lang);
    var root = document.getElementById("chat");
    var config = window.IOM_CHAT_CONFIG || {};
    if (!window.WebChat || !window.WebChat.default) {
      root.textContent = t.unavailable;
      return;
    }
    window.WebChat.default({
      socketUrl: socketUrl(config),
      socketPath: "/socket.io/",
      customData: { language: lang },
      initPayload: "/greet",
      embedded: true,
      title: t.widgetTitle,
      subtitle: t.widgetSubtitle,
      inputTextFieldHint: t.hint,
      hideWhenNotConnected: false,
      showMessageDate: false,
      customMessageDelay: function () { return 150; },
      params: { storage: "local" }
    }, root);
    new MutationObserver(function () { improveAccessibility(root, t); })
      .observe(root, { childList: true, subtree: true });
    improveAccessibility(root, t);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
