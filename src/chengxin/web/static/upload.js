// 上传进度 Upload progress. A form marked data-progress is sent by XMLHttpRequest instead of a plain post, so
// that the clerk sees the file go up (the browser's upload events) and then its rows being checked and written
// (the server's NDJSON lines, see chengxin/api/progress.py). Without this script the form posts as usual.
"use strict";

(function () {
  function bind(root) {
    root.querySelectorAll("form[data-progress]").forEach(function (form) {
      form.addEventListener("submit", send);
    });
  }

  function megabytes(bytes) {
    return (bytes / 1048576).toFixed(1) + " MB";
  }

  function showError(form, message, code, en) {
    var old = form.parentNode.querySelector(".alert-upload");
    if (old) old.remove();
    var box = document.createElement("div");
    box.className = "alert alert-error alert-upload";
    box.setAttribute("role", "alert");
    var first = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = "文件未能处理：";
    first.appendChild(strong);
    first.appendChild(document.createTextNode(message));
    box.appendChild(first);
    if (code) {
      var second = document.createElement("p");
      second.className = "small";
      second.appendChild(document.createTextNode("错误代码："));
      var c = document.createElement("code");
      c.textContent = code;
      second.appendChild(c);
      if (en) {
        var e = document.createElement("span");
        e.className = "en";
        e.textContent = " " + en;
        second.appendChild(e);
      }
      box.appendChild(second);
    }
    form.parentNode.insertBefore(box, form);
  }

  function send(event) {
    var form = event.currentTarget;
    if (!window.FormData || !window.XMLHttpRequest) return; // the plain post
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    var box = form.querySelector(".upload-progress");
    var bar = box.querySelector("progress");
    var text = box.querySelector(".upload-progress-text");
    var old = form.parentNode.querySelector(".alert-upload");
    if (old) old.remove();
    button.disabled = true;
    box.hidden = false;
    bar.max = 100;
    bar.value = 0;
    text.textContent = "正在上传…";

    var xhr = new XMLHttpRequest();
    var read = 0; // how much of the streamed answer has been handled
    var finished = false;

    function fail(message, code, en) {
      finished = true;
      box.hidden = true;
      button.disabled = false;
      showError(form, message, code, en);
    }

    function handle(line) {
      if (!line.trim()) return; // keep-alive
      var event = JSON.parse(line);
      if (event.error) {
        fail(event.error.message, event.error.code, event.error.message_en);
      } else if (event.done) {
        finished = true;
        bar.value = 100;
        text.textContent = "已完成，正在打开回执…";
        window.location.assign(event.url);
      } else {
        var share = event.total ? Math.min(100, Math.floor((event.bytes / event.total) * 100)) : 0;
        bar.value = share;
        text.textContent = share >= 100
          ? "已校验 " + event.rows.toLocaleString("zh-CN") + " 行，正在写入并生成回执…"
          : "正在校验入库：已处理 " + event.rows.toLocaleString("zh-CN") + " 行（" + share + "%）";
      }
    }

    function drain(all) {
      var body = xhr.responseText;
      var end = all ? body.length : body.lastIndexOf("\n") + 1;
      if (end <= read) return;
      body.slice(read, end).split("\n").forEach(handle);
      read = end;
    }

    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      var share = Math.floor((e.loaded / e.total) * 100);
      bar.value = share;
      text.textContent = "正在上传：" + megabytes(e.loaded) + " / " + megabytes(e.total) + "（" + share + "%）";
    });
    xhr.upload.addEventListener("load", function () {
      bar.value = 0;
      text.textContent = "上传完成，正在校验入库…";
    });
    xhr.addEventListener("progress", function () {
      if ((xhr.getResponseHeader("Content-Type") || "").indexOf("application/x-ndjson") === 0) drain(false);
    });
    xhr.addEventListener("load", function () {
      var type = xhr.getResponseHeader("Content-Type") || "";
      if (type.indexOf("application/x-ndjson") === 0) {
        drain(true);
        if (!finished) fail("连接中断，未收到处理结果。请到“报送记录”查看该批次是否已入库。", "upload.interrupted",
                            "The connection ended before the result arrived");
        return;
      }
      if (type.indexOf("text/html") === 0) { // refused before it started: the page the plain post would show
        var page = new DOMParser().parseFromString(xhr.responseText, "text/html");
        var main = page.querySelector("main");
        if (main) {
          document.querySelector("main").replaceWith(main);
          bind(main);
          return;
        }
      }
      fail("服务器返回了无法识别的响应（HTTP " + xhr.status + "），请稍后重试。", "upload.unexpected_response",
           "Unexpected response");
    });
    xhr.addEventListener("error", function () {
      fail("网络中断，文件未能送达。请检查网络后重试；如已开始入库，请到“报送记录”查看。", "upload.network",
           "Network error");
    });
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Progress", "ndjson");
    xhr.send(new FormData(form));
  }

  document.addEventListener("DOMContentLoaded", function () { bind(document); });
})();
