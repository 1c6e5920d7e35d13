/* The planscape finder's map: a click asks about the neighbourhood there; the drawing control
 * (draw.js) posts a drawn polygon. On result pages, adds a Print button. Everything here has a
 * route that works without JavaScript (the forms on the same pages). */
(function () {
  "use strict";

  function addPrintButton() {
    var holder = document.querySelector("[data-print]");
    if (!holder || !window.print) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = holder.getAttribute("data-print");
    button.addEventListener("click", function () { window.print(); });
    holder.textContent = "";
    holder.appendChild(button);
  }

  function setUpFinderMap() {
    var holder = document.querySelector("[data-finder-map]");
    var map = holder && holder.capmapMap;  // built by map.js, loaded before this script
    if (!map) { return; }
    var status = document.getElementById("map-status");
    var pointForm = document.getElementById("point-form");
    var drawForm = document.getElementById("draw-form");
    var texts = JSON.parse(holder.getAttribute("data-texts") || "{}");

    function announce(message) { if (status) { status.textContent = message; } }

    var draw = null;
    if (L.control.capmapDraw && drawForm) {
      draw = L.control.capmapDraw({
        announce: announce,
        texts: texts,
        onFinish: function (polygon) {
          drawForm.elements.geometry.value = JSON.stringify(polygon);
          drawForm.submit();
        }
      }).addTo(map);
    }

    map.on("click", function (event) {
      if ((draw && draw.isDrawing()) || !pointForm) { return; }
      pointForm.elements.lon.value = event.latlng.lng.toFixed(6);
      pointForm.elements.lat.value = event.latlng.lat.toFixed(6);
      announce(texts.clicked);
      pointForm.submit();
    });
  }

  setUpFinderMap();
  addPrintButton();
}());
