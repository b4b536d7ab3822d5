// A secret shown once (a new API key, a reset password) is copied with one click: a mistyped key costs a revoke
// and a new key. Without this script the text is still there to select by hand.
(function () {
  "use strict";
  function copied(button, ok) {
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    button.textContent = ok ? "已复制" : "请手动选择复制";
    window.setTimeout(function () { button.textContent = label; }, 2500);
  }
  function bySelection(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    try { return document.execCommand("copy"); } catch (e) { return false; }
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) { return; }
    var node = document.querySelector(button.getAttribute("data-copy"));
    if (!node) { return; }
    var text = node.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { copied(button, true); },
                                               function () { copied(button, bySelection(node)); });
    } else {
      copied(button, bySelection(node));
    }
  });
})();
