const supabaseUrl = "https://abcdefghijklmnopqrst.supabase.co";
document.getElementById("root").insertAdjacentHTML("beforeend", "<p>Loaded from " + supabaseUrl + "</p>");
