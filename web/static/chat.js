/* Chat page of the IOM/OIM assistant: page language, FR/EN/ES switch, and the rasa-webchat widget.
 *
 * The page language (?lang=fr|en|es, else the last choice, else the browser's) is sent to the bot
 * with every message as metadata ({"language": "fr"|"en"|"es"} in the widget's customData), so the
 * greeting and first answers follow the page. Switching language reloads the page; the
 * conversation continues (the widget keeps its session id and history in localStorage, and the
 * server keeps the conversation under that id).
 *
 * The second half is the accessibility layer over the widget (docs/accessibility.md, tested by
 * tests/test_web_accessibility.py): focus, the lang of each message, who said what, what is
 * announced, and a notice when the Rasa server cannot be reached.
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
      unavailable: "L'assistant est momentanément indisponible. Réessayez dans un instant.",
      offline: "Impossible de joindre l'assistant pour le moment. Nouvel essai automatique en cours ; vous pouvez aussi recharger la page plus tard.",
      you: "Vous avez écrit :",
      assistant: "L'assistant :",
      suggestions: "Questions suggérées",
      newTab: "(s'ouvre dans un nouvel onglet)"
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
      unavailable: "The assistant is temporarily unavailable. Please try again in a moment.",
      offline: "The assistant cannot be reached at the moment. Trying again automatically; you can also reload the page later.",
      you: "You wrote:",
      assistant: "Assistant:",
      suggestions: "Suggested questions",
      newTab: "(opens in a new tab)"
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
      unavailable: "El asistente no está disponible en este momento. Vuelva a intentarlo en un instante.",
      offline: "No se puede contactar con el asistente en este momento. Se vuelve a intentar automáticamente; también puede recargar la página más tarde.",
      you: "Usted escribió:",
      assistant: "Asistente:",
      suggestions: "Preguntas sugeridas",
      newTab: "(se abre en una pestaña nueva)"
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

  // --- Accessibility layer over rasa-webchat 1.0.1 (docs/accessibility.md) -----------------
  // The widget is a React bundle we do not change: this code adds what it lacks, from outside,
  // after each of its renders (a MutationObserver). It only adds attributes and small
  // visually hidden spans to the widget's elements, never removes or moves them.

  var LANG_CLASS = /(?:^|\s)iom-lang-(fr|en|es)(?:\s|$)/;
  var BOT_BUBBLES = ".rw-group-message .rw-response";
  var ANNOUNCEMENTS_KEPT = 6;

  // The language of a bot message, as the server sent it (channels/socketio.py: a class
  // iom-lang-xx given through the widget's customCss, kept in its stored history).
  function botLanguage(bubble) {
    var match = LANG_CLASS.exec(bubble.className);
    return match ? match[1] : null;
  }

  function setLang(el, lang) {
    if (lang) {
      if (el.getAttribute("lang") !== lang) el.setAttribute("lang", lang);
    } else if (el.hasAttribute("lang")) {
      el.removeAttribute("lang");
    }
  }

  function hiddenText(text, lang, className) {
    var span = document.createElement("span");
    span.className = "visually-hidden " + className;
    span.lang = lang;
    span.textContent = text;
    return span;
  }

  // "You wrote:" / "Assistant:" before each bubble's text, for screen readers (position and
  // colour say it to the eyes only), in the page's language.
  function labelSpeaker(bubble, text, pageLang) {
    var first = bubble.firstElementChild;
    if (first && first.classList.contains("iom-speaker")) return;
    bubble.insertBefore(hiddenText(text + " ", pageLang, "iom-speaker"), first);
  }

  // Bot bubbles: lang from the server. User bubbles: the language the assistant took them to be
  // in, which is the language of the next bot message (it answers in the language of the
  // user's message); none yet (reply pending) leaves the page language.
  function markLanguages(root, t, pageLang) {
    var bubbles = root.querySelectorAll(".rw-group-message .rw-response, .rw-group-message .rw-client");
    var nextBotLang = null;
    for (var i = bubbles.length - 1; i >= 0; i--) {
      var bubble = bubbles[i];
      var isBot = bubble.classList.contains("rw-response");
      var lang = isBot ? botLanguage(bubble) : nextBotLang;
      if (isBot) nextBotLang = lang;
      setLang(bubble, lang);
      labelSpeaker(bubble, isBot ? t.assistant : t.you, pageLang);
      var replies = bubble.parentNode.querySelector(".rw-replies");
      if (isBot && replies) {
        replies.querySelectorAll(".rw-reply").forEach(function (reply) { setLang(reply, lang); });
      }
    }
  }

  // Suggestion buttons: real buttons for keyboards and screen readers, a named group of their
  // own (not read run into the answer), and only the latest message's set is shown (the server
  // sends them as `buttons`, which the widget keeps under every past message).
  function improveReplies(root, t) {
    var messages = root.querySelectorAll(".rw-group-message .rw-message");
    var latest = messages[messages.length - 1];
    root.querySelectorAll(".rw-replies").forEach(function (replies) {
      if (!replies.hasAttribute("role")) {
        replies.setAttribute("role", "group");
        replies.setAttribute("aria-label", t.suggestions);
      }
      var current = !!latest && latest.contains(replies);
      if (replies.hidden === current) replies.hidden = !current;
    });
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
  }

  // Links in answers open a new tab (the widget's choice): say so, in the page's language.
  function markNewTabLinks(root, t, pageLang) {
    root.querySelectorAll(".rw-response a[target='_blank']").forEach(function (a) {
      a.setAttribute("rel", "noopener noreferrer");
      if (a.querySelector(".iom-new-tab")) return;
      a.appendChild(hiddenText(" " + t.newTab, pageLang, "iom-new-tab"));
    });
  }

  // The widget's own container is a plain region: its additions (the user's own message, a
  // bubble the widget re-creates) are not announced. New bot messages are announced here, once
  // each, counted by position: the stored history shown at load is not read out again.
  function Announcer(panel, t, pageLang) {
    var region = document.createElement("div");
    region.className = "visually-hidden";
    region.id = "chat-announcements";
    region.setAttribute("aria-live", "polite");
    region.setAttribute("aria-relevant", "additions");
    panel.appendChild(region);
    var seen = null;

    function say(bubble) {
      var text = bubble.querySelector(".rw-message-text");
      if (!text) return;
      var copy = text.cloneNode(true);
      copy.querySelectorAll(".iom-new-tab").forEach(function (el) { el.remove(); });
      var line = document.createElement("p");
      line.appendChild(hiddenText(t.assistant + " ", pageLang, "iom-speaker"));
      var body = document.createElement("span");
      setLang(body, botLanguage(bubble));
      body.textContent = copy.textContent.trim();
      line.appendChild(body);
      region.appendChild(line);
      while (region.childNodes.length > ANNOUNCEMENTS_KEPT) region.removeChild(region.firstChild);
    }

    return {
      // A bot message arrived on the socket: the widget shows it a moment later.
      expect: function (root) {
        if (seen === null) seen = root.querySelectorAll(BOT_BUBBLES).length;
      },
      update: function (root) {
        if (seen === null) return;
        var bubbles = root.querySelectorAll(BOT_BUBBLES);
        for (var i = seen; i < bubbles.length; i++) say(bubbles[i]);
        seen = Math.max(seen, bubbles.length);
      }
    };
  }

  function improveAccessibility(root, t, pageLang) {
    markLanguages(root, t, pageLang);
    improveReplies(root, t);
    markNewTabLinks(root, t, pageLang);
    var input = root.querySelector(".rw-new-message");
    if (input && !input.getAttribute("aria-label")) input.setAttribute("aria-label", t.inputLabel);
    var send = root.querySelector(".rw-send");
    if (send && !send.getAttribute("aria-label")) send.setAttribute("aria-label", t.send);
    var log = root.querySelector(".rw-messages-container");
    if (log && !log.getAttribute("role")) {
      log.setAttribute("role", "region");
      log.setAttribute("aria-label", t.log);
      log.setAttribute("tabindex", "0");
    }
  }

  // After a suggestion is chosen (its buttons disappear) or Send is pressed (the button is
  // disabled once the box is empty), focus goes back to the message box, not to <body>.
  function keepFocusInConversation(root) {
    function backToInput() {
      window.setTimeout(function () {
        var input = root.querySelector(".rw-new-message");
        if (input && !input.disabled && document.activeElement !== input) input.focus();
      }, 0);
    }
    root.addEventListener("click", function (event) {
      if (event.target.closest && event.target.closest(".rw-reply:not(a)")) backToInput();
    }, true);
    root.addEventListener("submit", backToInput, true);
  }

  // If the Rasa server cannot be reached, the widget stays hidden (and its "Waiting for
  // server..." is English only): say so, visibly, in the page's language.
  function ConnectionNotice(panel, root, t) {
    var notice = document.createElement("p");
    notice.id = "chat-offline";
    notice.className = "chat-offline";
    notice.setAttribute("role", "alert");
    notice.hidden = true;
    panel.insertBefore(notice, root);
    return {
      offline: function () {
        if (!notice.hidden) return;
        notice.hidden = false;
        notice.textContent = t.offline;
        // Never connected: the widget shows nothing yet, so no empty frame either.
        if (!root.querySelector(".rw-group-message")) panel.classList.add("chat-unreached");
      },
      online: function () {
        notice.hidden = true;
        notice.textContent = "";
        panel.classList.remove("chat-unreached");
      }
    };
  }

  function start() {
    var lang = pageLanguage();
    var t = TEXT[lang];
    translatePage(lang);
    var root = document.getElementById("chat");
    var panel = root.parentNode;
    var config = window.IOM_CHAT_CONFIG || {};
    if (!window.WebChat || !window.WebChat.default) {
      root.textContent = t.unavailable;
      return;
    }
    var announcer = Announcer(panel, t, lang);
    var connection = ConnectionNotice(panel, root, t);
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
      onSocketEvent: {
        connect: connection.online,
        connect_error: connection.offline,
        disconnect: function (reason) {
          if (reason !== "io client disconnect") connection.offline();
        },
        bot_uttered: function () { announcer.expect(root); }
      },
      params: { storage: "local" }
    }, root);
    new MutationObserver(function () {
      improveAccessibility(root, t, lang);
      announcer.update(root);
    }).observe(root, { childList: true, subtree: true, attributes: true, attributeFilter: ["class"] });
    improveAccessibility(root, t, lang);
    keepFocusInConversation(root);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
