// Shared by the page scripts: texts from the page's catalogue (data-messages, in the server's
// language) and JSON calls to the API that fail with the server's one-sentence error.
window.coderPage = root => {
  const messages = JSON.parse(root.dataset.messages);
  return {
    t: (key, values = {}) => messages[key].replace(/%\((\w+)\)s/g, (_, name) => String(values[name])),
    async call(url, body) {
      const res = await fetch(url, body ? {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)} : {});
      const data = await res.json();
      if (!data.ok) throw new Error(data.error);
      return data;
    },
  };
};
