// The web simulator's chat: posts each message as JSON and shows the replies (and buttons).
(function () {
  // Where to post: given by the page (data-message-url, data-reset-url), so the script is a file.
  const urls = {message: document.body.dataset.messageUrl, reset: document.body.dataset.resetUrl};
  const log = document.getElementById("log");
  const input = document.getElementById("text");
  const style = document.getElementById("style");

  function bubble(text, who) {
    const div = document.createElement("div");
    div.className = "bubble " + who;
    div.textContent = text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST", headers: {"Content-Type": "application/json"},
      credentials: "same-origin", body: JSON.stringify(body)
    });
    const data = await response.json().catch(() => ({error: response.statusText}));
    if (!response.ok) throw new Error(data.error || ("HTTP " + response.status));
    return data;
  }

  const sendButton = document.getElementById("send");

  // `shown` is what the person sees they sent (a button's label); `text` is what goes to the engine;
  // `button` is a pressed button's data ("<question tag>:<number>"), checked like Telegram's.
  async function send(text, shown, button) {
    if (sendButton.disabled) return;  // one message at a time keeps answers in order
    sendButton.disabled = true;
    bubble(shown || (text === "" ? "(empty message)" : text), "me");
    try {
      const body = button ? {button: button, style: "telegram"} : {text: text, style: style.value};
      const data = await post(urls.message, body);
      for (const reply of data.replies) {
        const div = bubble(reply.text, "bot");
        if (reply.buttons.length) {
          const row = document.createElement("div");
          row.className = "buttons";
          for (const [data, label] of reply.buttons) {
            const button = document.createElement("button");
            button.type = "button";
            button.textContent = label;
            button.addEventListener("click", () => send("", label, data));
            row.appendChild(button);
          }
          div.appendChild(row);
          log.scrollTop = log.scrollHeight;  // the buttons made the bubble taller
        }
      }
    } catch (error) {
      const div = bubble("Not sent: " + error.message, "error");
      div.classList.remove("bubble");
    } finally {
      sendButton.disabled = false;
    }
  }

  document.getElementById("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    input.value = "";
    send(text);
    input.focus();
  });
  document.getElementById("reset").addEventListener("click", async () => {
    try {
      await post(urls.reset, {});
      log.textContent = "";
    } catch (error) {
      const div = bubble("Could not start as a new person: " + error.message, "error");
      div.classList.remove("bubble");
    }
    input.focus();
  });
})();
