/* capmap pins: the public pin map (clustered, fetched by bounding box) and the moderators'
 * small maps. Text from residents is only ever inserted with textContent, never as HTML. */
(function () {
  "use strict";

  var SCOTLAND = [[54.6, -8.0], [60.9, -0.7]];
  var STATUS_COLOURS = { published: "#d55e00", resolved: "#009e73" };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function addTiles(map, holder) {
    var url = holder.getAttribute("data-tiles");
    if (url) {
      // The attribution is the site's own configuration, not user input.
      L.tileLayer(url, { attribution: holder.getAttribute("data-attribution") || "", maxZoom: 19 })
        .addTo(map);
    }
  }

  function setField(id, value) {
    var input = document.getElementById(id);
    if (input) { input.value = value; }
  }

  function readJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
  }

  function pinPopup(pinUrl, labels, id) {
    var box = el("div", "pin-popup");
    var title = el("strong", null, "Loading…");
    var body = el("p", "pin-popup-text");
    var meta = el("small");
    box.appendChild(title); box.appendChild(body); box.appendChild(meta);
    readJSON(pinUrl + "/" + encodeURIComponent(id) + ".json").then(function (pin) {
      title.textContent = labels[pin.category] || pin.category;
      body.textContent = pin.description;
      meta.textContent = "Reported " + pin.created + " · " + pin.status +
        " · shown near, not exactly at, the reported spot";
    }).catch(function () { title.textContent = "This report is no longer shown."; });
    return box;
  }

  function cellMarker(cell) {
    var icon = el("div", "pin-cell", cell[2]);
    var size = 26 + Math.min(24, Math.round(Math.log(cell[2]) * 4));
    return L.marker([cell[1], cell[0]], {
      icon: L.divIcon({ html: icon, className: "", iconSize: [size, size] }),
      keyboard: false, title: cell[2] + " reports"
    });
  }

  function pinMap(holder) {
    var map = L.map(holder, { zoomControl: true, maxZoom: 19 });
    addTiles(map, holder);
    map.fitBounds(SCOTLAND);
    var labels = JSON.parse(holder.getAttribute("data-categories") || "{}");
    var dataUrl = holder.getAttribute("data-data-url");
    var pinUrl = holder.getAttribute("data-pin-url");
    var clusters = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 50 });
    var cells = L.layerGroup();
    clusters.addTo(map); cells.addTo(map);
    var mine = null;
    var pending = null;

    function placeMine(lat, lon, move) {
      if (mine) { mine.setLatLng([lat, lon]); } else {
        mine = L.marker([lat, lon], { title: "Your pin", keyboard: false }).addTo(map);
        mine.bindTooltip("Your pin");
      }
      if (move) { map.setView([lat, lon], Math.max(map.getZoom(), 15)); }
    }

    function show(data) {
      clusters.clearLayers(); cells.clearLayers();
      if (data.kind === "cells") {
        data.cells.forEach(function (c) { cells.addLayer(cellMarker(c)); });
        return;
      }
      var markers = data.points.map(function (p) {
        var status = data.statuses[p[4]];
        var category = data.categories[p[3]];
        var marker = L.circleMarker([p[2], p[1]], {
          radius: 7, weight: 2, color: "#ffffff", fillOpacity: 0.9,
          fillColor: STATUS_COLOURS[status] || "#666666"
        });
        marker.bindTooltip((labels[category] || category) + (status === "resolved" ? " (resolved)" : ""));
        marker.bindPopup(function () { return pinPopup(pinUrl, labels, p[0]); });
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

    var areasUrl = holder.getAttribute("data-areas-url");
    if (areasUrl) {
      readJSON(areasUrl).then(function (geojson) {
        var outline = L.geoJSON(geojson, {
          style: { color: "#555555", weight: 0.6, fill: false }, interactive: false
        }).addTo(map);
        if (!mine && outline.getBounds().isValid()) { map.fitBounds(outline.getBounds()); }
      }).catch(function () {});
    }

    var lon = parseFloat((document.getElementById("lon") || {}).value);
    var lat = parseFloat((document.getElementById("lat") || {}).value);
    if (isFinite(lon) && isFinite(lat)) { placeMine(lat, lon, true); }

    map.on("click", function (e) {
      setField("lon", e.latlng.lng.toFixed(6));
      setField("lat", e.latlng.lat.toFixed(6));
      placeMine(e.latlng.lat, e.latlng.lng, false);
      var note = document.getElementById("pin-place");
      if (note) { note.textContent = "Placed where you clicked on the map."; }
    });
    map.on("moveend", refresh);
    refresh();
  }

  function miniMap(holder) {
    var lat = parseFloat(holder.getAttribute("data-lat"));
    var lon = parseFloat(holder.getAttribute("data-lon"));
    if (!isFinite(lat) || !isFinite(lon)) { return; }
    var map = L.map(holder, { zoomControl: false, attributionControl: !!holder.getAttribute("data-tiles"),
                              scrollWheelZoom: false, keyboard: false });
    addTiles(map, holder);
    map.setView([lat, lon], 16);
    L.circleMarker([lat, lon], { radius: 7, color: "#b30000", fillOpacity: 0.8 }).addTo(map);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof L === "undefined") { return; }
    var holder = document.getElementById("pin-map");
    if (holder && L.markerClusterGroup) { pinMap(holder); }
    Array.prototype.forEach.call(document.querySelectorAll(".pin-minimap"), miniMap);
  });
}());
