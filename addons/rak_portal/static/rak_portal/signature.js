/* « Signer le contrat »: the customer scrolls the contract to its end and draws a signature on the
   canvas (mouse, finger or stylus: pointer events, with touch/mouse fallbacks). The signature goes
   to the server as a PNG data URL in a hidden field; the server checks it is a real, non-blank PNG.
   « Signer le contrat » stays disabled until the contract was read to the end and something drawn. */
(function () {
  "use strict";
  var canvas = document.getElementById("signature-pad");
  var form = document.getElementById("sign-form");
  if (!canvas || !form) { return; }
  var text = document.getElementById("contract-text");
  var submit = document.getElementById("sign-submit");
  var field = document.getElementById("signature-data");
  var ctx = canvas.getContext("2d");
  var drawing = false, drawn = false, read = false, last = null;

  ctx.lineWidth = 3;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.strokeStyle = "#14213d";

  function update() { submit.disabled = !(drawn && read); }
  function checkRead() {
    if (!text || text.scrollTop + text.clientHeight >= text.scrollHeight - 8) { read = true; update(); }
  }
  if (text) { text.addEventListener("scroll", checkRead); }
  checkRead();

  function point(evt) {
    var rect = canvas.getBoundingClientRect();
    var source = evt.touches && evt.touches.length ? evt.touches[0] : evt;
    return {
      x: (source.clientX - rect.left) * (canvas.width / rect.width),
      y: (source.clientY - rect.top) * (canvas.height / rect.height)
    };
  }
  function start(evt) {
    evt.preventDefault();
    drawing = true;
    last = point(evt);
    ctx.beginPath();
    ctx.arc(last.x, last.y, 1.2, 0, 2 * Math.PI);
    ctx.fillStyle = ctx.strokeStyle;
    ctx.fill();
  }
  function move(evt) {
    if (!drawing) { return; }
    evt.preventDefault();
    var p = point(evt);
    ctx.beginPath();
    ctx.moveTo(last.x, last.y);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    last = p;
    drawn = true;
    update();
  }
  function end() { drawing = false; }

  if (window.PointerEvent) {
    canvas.addEventListener("pointerdown", function (evt) { canvas.setPointerCapture(evt.pointerId); start(evt); });
    canvas.addEventListener("pointermove", move);
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
  } else {
    canvas.addEventListener("mousedown", start);
    canvas.addEventListener("mousemove", move);
    window.addEventListener("mouseup", end);
    canvas.addEventListener("touchstart", start, { passive: false });
    canvas.addEventListener("touchmove", move, { passive: false });
    canvas.addEventListener("touchend", end);
  }

  document.getElementById("signature-clear").addEventListener("click", function () {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    drawn = false;
    update();
  });
  form.addEventListener("submit", function (evt) {
    if (!drawn) { evt.preventDefault(); return; }
    field.value = canvas.toDataURL("image/png");
  });
  canvas.setAttribute("data-ready", "true");  // wired: drawing now counts (tests wait for it)
})();
