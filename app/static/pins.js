/* capmap pins: the pins on the public pin map (clustered, fetched by bounding box) and placing
 * your own. map.js builds the map itself. Text from residents is only ever inserted with
 * textContent, never as HTML. */
(function () {
  "use strict";

  var STATUS_COLOURS = { published: "#d55e00", resolved: "#009e73" };

  var el = window.capmapElement;  // map.js's text-only element maker (loaded before this)

  function setField(id, value) {
    var input = document.getElementById(id);
    if (input) { input.value = value; }
  }

  function readJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
  }

  function pinPopup(pinUrl, labels, texts, id) {
    var box = el("div", "pin-popup");
    var title = el("strong", null, texts.loading);
    var body = el("p", "pin-popup-text");
    var meta = el("small");
    box.appendChild(title); box.appendChild(body); box.appendChild(meta);
    readJSON(pinUrl + "/" + encodeURIComponent(id) + ".json").then(function (pin) {
      title.textContent = labels[pin.category] || pin.category;
      body.textContent = pin.description;
      meta.textContent = texts.reported.replace("{created}", pin.created)
        .replace("{status}", (texts.statuses || {})[pin.status] || pin.status);
    }).catch(function () { title.textContent = texts.gone; });
    return box;
  }

  function cellMarker(cell, texts) {
    var icon = el("div", "pin-cell", cell[2]);
    var size = 26 + Math.min(24, Math.round(Math.log(cell[2]) * 4));
    return L.marker([cell[1], cell[0]], {
      icon: L.divIcon({ html: icon, className: "", iconSize: [size, size] }),
      keyboard: false, title: texts.cell.replace("{n}", cell[2])
    });
  }

  function pinMap(holder) {
    var map = holder.capmapMap;
    var labels = JSON.parse(holder.getAttribute("data-categories") || "{}");
    var texts = JSON.parse(holder.getAttribute("data-texts") || "{}");
    var dataUrl = holder.getAttribute("data-data-url");
    var pinUrl = holder.getAttribute("data-pin-url");
    var clusters = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 50 });
    var cells = L.layerGroup();
    clusters.addTo(map); cells.addTo(map);
    var mine = null;
    var pending = null;

    function placeMine(lat, lon, move) {
      if (mine) { mine.setLatLng([lat, lon]); } else {
        mine = L.marker([lat, lon], { title: texts.mine, keyboard: false }).addTo(map);
        mine.bindTooltip(texts.mine);
      }
      if (move) { map.setView([lat, lon], Math.max(map.getZoom(), 15)); }
    }

    function show(data) {
      clusters.clearLayers(); cells.clearLayers();
      if (data.kind === "cells") {
        data.cells.forEach(function (c) { cells.addLayer(cellMarker(c, texts)); });
        return;
      }
      var markers = data.points.map(function (p) {
        var status = data.statuses[p[4]];
        var category = data.categories[p[3]];
        var marker = L.circleMarker([p[2], p[1]], {
          radius: 7, weight: 2, color: "#ffffff", fillOpacity: 0.9,
          fillColor: STATUS_COLOURS[status] || "#666666"
        });
        marker.bindTooltip(el("span", null, (labels[category] || category) +
                                         (status === "resolved" ? texts.resolved : "")));
        marker.bindPopup(function () { return pinPopup(pinUrl, labels, texts, p[0]); });
        return marker;
      });
      clusters.addLayers(markers);
    }

    function refresh() {
      var b = map.getBounds();
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) {
        return v.toFixed(5);
      }).join(",");
      if (pending) { clearTimeout(pending); }
      pending = setTimeout(function () {
        readJSON(dataUrl + "?bbox=" + encodeURIComponent(bbox)).then(show).catch(function () {});
      }, 150);
    }

    var lon = parseFloat((document.getElementById("lon") || {}).value);
    var lat = parseFloat((document.getElementById("lat") || {}).value);
    if (isFinite(lon) && isFinite(lat)) { placeMine(lat, lon, true); }

    map.on("click", function (e) {
      setField("lon", e.latlng.lng.toFixed(6));
      setField("lat", e.latlng.lat.toFixed(6));
      placeMine(e.latlng.lat, e.latlng.lng, false);
      var note = document.getElementById("pin-place");
      if (note) { note.textContent = texts.placed; }
    });
    map.on("moveend", refresh);
    refresh();
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof L === "undefined") { return; }
    var holder = document.getElementById("pin-map");
    if (holder && holder.capmapMap && L.markerClusterGroup) { pinMap(holder); }
  });
}());
