// Layer 3: references between the rendered objects. Every ConfigMap, Secret (and key),
// ServiceAccount, Role, Service and named port that a pod template, Service, Ingress or
// RoleBinding refers to must be rendered too or declared -external; every Service must
// select some pod template.

package main

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// podTemplate is a pod spec of some workload, with where it is.
type podTemplate struct {
	owner  *object
	labels map[string]string
	spec   *corev1.PodSpec
}

func podTemplates(objs []*object) []podTemplate {
	var out []podTemplate
	for _, o := range objs {
		switch obj := o.obj.(type) {
		case *appsv1.Deployment:
			out = append(out, podTemplate{o, obj.Spec.Template.Labels, &obj.Spec.Template.Spec})
		case *appsv1.StatefulSet:
			out = append(out, podTemplate{o, obj.Spec.Template.Labels, &obj.Spec.Template.Spec})
		case *appsv1.DaemonSet:
			out = append(out, podTemplate{o, obj.Spec.Template.Labels, &obj.Spec.Template.Spec})
		case *batchv1.Job:
			out = append(out, podTemplate{o, obj.Spec.Template.Labels, &obj.Spec.Template.Spec})
		case *batchv1.CronJob:
			t := &obj.Spec.JobTemplate.Spec.Template
			out = append(out, podTemplate{o, t.Labels, &t.Spec})
		case *corev1.Pod:
			out = append(out, podTemplate{o, obj.Labels, &obj.Spec})
		}
	}
	return out
}

func checkReferences(objs []*object, ext externals) []string {
	var problems []string
	// Rendered objects by Kind/namespace/name, and the keys of ConfigMaps and Secrets.
	rendered := map[string]*object{}
	dataKeys := map[string]map[string]bool{}
	for _, o := range objs {
		id := o.kind + "/" + o.namespace + "/" + o.name
		rendered[id] = o
		switch obj := o.obj.(type) {
		case *corev1.ConfigMap:
			dataKeys[id] = set(keysOf(obj.Data, obj.BinaryData))
		case *corev1.Secret:
			dataKeys[id] = set(keysOf(obj.StringData, obj.Data))
		}
	}
	// need reports a reference to kind/name in namespace ns that is neither rendered nor
	// external; with key, also a key the rendered ConfigMap or Secret lacks.
	need := func(from *object, what, kind, ns, name, key string, optional bool) {
		if optional || name == "" {
			return
		}
		id := kind + "/" + ns + "/" + name
		if _, ok := rendered[id]; ok {
			if key != "" && dataKeys[id] != nil && !dataKeys[id][key] {
				problems = append(problems, fmt.Sprintf("%s: %s: %s %s has no key %q", from, what, kind, name, key))
			}
			return
		}
		if ext[kind+"/"+name] || (kind == "ServiceAccount" && name == "default") {
			return
		}
		problems = append(problems, fmt.Sprintf("%s: %s: %s %q is neither in the manifests nor declared -external %s/%s", from, what, kind, name, kind, name))
	}
	isTrue := func(b *bool) bool { return b != nil && *b }

	templates := podTemplates(objs)
	for _, t := range templates {
		ns := t.owner.namespace
		sa := t.spec.ServiceAccountName
		if sa == "" {
			sa = "default"
		}
		need(t.owner, "serviceAccountName", "ServiceAccount", ns, sa, "", false)
		for _, s := range t.spec.ImagePullSecrets {
			need(t.owner, "imagePullSecrets", "Secret", ns, s.Name, "", false)
		}
		for _, v := range t.spec.Volumes {
			if c := v.ConfigMap; c != nil {
				for _, it := range c.Items {
					need(t.owner, "volume "+v.Name, "ConfigMap", ns, c.Name, it.Key, isTrue(c.Optional))
				}
				if len(c.Items) == 0 {
					need(t.owner, "volume "+v.Name, "ConfigMap", ns, c.Name, "", isTrue(c.Optional))
				}
			}
			if s := v.Secret; s != nil {
				for _, it := range s.Items {
					need(t.owner, "volume "+v.Name, "Secret", ns, s.SecretName, it.Key, isTrue(s.Optional))
				}
				if len(s.Items) == 0 {
					need(t.owner, "volume "+v.Name, "Secret", ns, s.SecretName, "", isTrue(s.Optional))
				}
			}
		}
		for _, c := range append(append([]corev1.Container{}, t.spec.InitContainers...), t.spec.Containers...) {
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				if r := e.ValueFrom.SecretKeyRef; r != nil {
					need(t.owner, "container "+c.Name+" env "+e.Name, "Secret", ns, r.Name, r.Key, isTrue(r.Optional))
				}
				if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
					need(t.owner, "container "+c.Name+" env "+e.Name, "ConfigMap", ns, r.Name, r.Key, isTrue(r.Optional))
				}
			}
			for _, e := range c.EnvFrom {
				if r := e.SecretRef; r != nil {
					need(t.owner, "container "+c.Name+" envFrom", "Secret", ns, r.Name, "", isTrue(r.Optional))
				}
				if r := e.ConfigMapRef; r != nil {
					need(t.owner, "container "+c.Name+" envFrom", "ConfigMap", ns, r.Name, "", isTrue(r.Optional))
				}
			}
		}
	}

	for _, o := range objs {
		switch obj := o.obj.(type) {
		case *corev1.Service:
			if len(obj.Spec.Selector) == 0 {
				continue
			}
			sel := labels.SelectorFromSet(obj.Spec.Selector)
			var selected []podTemplate
			for _, t := range templates {
				if t.owner.namespace == o.namespace && sel.Matches(labels.Set(t.labels)) {
					selected = append(selected, t)
				}
			}
			if len(selected) == 0 {
				problems = append(problems, fmt.Sprintf("%s: spec.selector %v selects no pod template of the manifests", o, obj.Spec.Selector))
				continue
			}
			for _, port := range obj.Spec.Ports {
				if port.TargetPort.Type != intstr.String {
					continue
				}
				for _, t := range selected {
					if !declaresPort(t.spec, port.TargetPort.StrVal) {
						problems = append(problems, fmt.Sprintf("%s: targetPort %q: %s has no container port of that name", o, port.TargetPort.StrVal, t.owner))
					}
				}
			}
		case *networkingv1.Ingress:
			for _, t := range obj.Spec.TLS {
				need(o, "spec.tls", "Secret", o.namespace, t.SecretName, "", false)
			}
			for _, r := range obj.Spec.Rules {
				if r.HTTP == nil {
					continue
				}
				for _, path := range r.HTTP.Paths {
					svc := path.Backend.Service
					if svc == nil {
						continue
					}
					need(o, "backend", "Service", o.namespace, svc.Name, "", false)
					if target, ok := rendered["Service/"+o.namespace+"/"+svc.Name]; ok && !servicePort(target.obj.(*corev1.Service), svc.Port) {
						problems = append(problems, fmt.Sprintf("%s: backend: Service %s has no port %s", o, svc.Name, portString(svc.Port)))
					}
				}
			}
		case *rbacv1.RoleBinding:
			if obj.RoleRef.Kind == "Role" {
				need(o, "roleRef", "Role", o.namespace, obj.RoleRef.Name, "", false)
			}
			for _, s := range obj.Subjects {
				if s.Kind == rbacv1.ServiceAccountKind {
					ns := s.Namespace
					if ns == "" {
						ns = o.namespace
					}
					need(o, "subjects", "ServiceAccount", ns, s.Name, "", false)
				}
			}
		}
	}
	return problems
}

func servicePort(s *corev1.Service, port networkingv1.ServiceBackendPort) bool {
	for _, p := range s.Spec.Ports {
		if (port.Name != "" && p.Name == port.Name) || (port.Number != 0 && p.Port == port.Number) {
			return true
		}
	}
	return false
}

func portString(port networkingv1.ServiceBackendPort) string {
	if port.Name != "" {
		return fmt.Sprintf("%q", port.Name)
	}
	return fmt.Sprint(port.Number)
}

func declaresPort(spec *corev1.PodSpec, name string) bool {
	for _, c := range spec.Containers {
		for _, p := range c.Ports {
			if p.Name == name {
				return true
			}
		}
	}
	return false
}

func set(ks []string) map[string]bool {
	m := map[string]bool{}
	for _, k := range ks {
		m[k] = true
	}
	return m
}
