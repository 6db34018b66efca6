// The till: scan a card's QR code with the phone's camera where the browser can (BarcodeDetector);
// typing the 12 digits always works. No library, nothing loaded from elsewhere.
(function () {
  "use strict";
  var field = document.getElementById("id_card");
  var wrap = document.querySelector(".scan");
  var video = document.querySelector(".scan-video");
  if (!field || !wrap || !video || !("BarcodeDetector" in window) || !navigator.mediaDevices) {
    return;
  }
  wrap.hidden = false;
  var button = wrap.querySelector("[data-scan]");
  button.addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      video.play();
      var stop = function () {
        stream.getTracks().forEach(function (track) { track.stop(); });
        video.hidden = true;
      };
      var look = function () {
        detector.detect(video).then(function (codes) {
          var digits = codes.length ? codes[0].rawValue.replace(/\D/g, "") : "";
          if (digits.length === 12) {
            field.value = digits;
            stop();
            var amount = document.getElementById("id_amount");
            if (amount) { amount.focus(); }
          } else {
            window.requestAnimationFrame(look);
          }
        }).catch(function () { window.requestAnimationFrame(look); });
      };
      look();
    }).catch(function () {
      wrap.hidden = true;
      field.focus();
    });
  });
})();
